using BenchmarkDotNet.Running;
using Smnist.Benchmarks;

if (args.Length > 0 && args[0] == "steps")
    StepTimes.Run(args[1..]);
else
    BenchmarkSwitcher.FromAssembly(typeof(DataBenchmarks).Assembly).Run(args);
