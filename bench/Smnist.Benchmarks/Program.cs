using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Smnist.Benchmarks.DataBenchmarks).Assembly).Run(args);
