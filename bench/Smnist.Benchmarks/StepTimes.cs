using System.Diagnostics;
using System.Globalization;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// <c>steps VIEW THREADS BATCH SECONDS</c>: times every whole training step (forward, backward, Adam, as
/// <see cref="BatchRunner"/> runs them in training) one by one for SECONDS after 1.5 s of warm-up, hidden 128, and
/// prints the median and the 20th percentile in ms, the 20th percentile's GFLOP/s, and the step count. The fast
/// steps show what the code does when the shared machine lets it run: two builds alternating, run after run, compare
/// by their ratio where a mean over all steps would carry the host's slow spells.
/// </summary>
internal static class StepTimes
{
    public static void Run(string[] args)
    {
        var view = Enum.Parse<SequenceView>(args[0], ignoreCase: true);
        int threads = int.Parse(args[1], CultureInfo.InvariantCulture), batchSize = int.Parse(args[2], CultureInfo.InvariantCulture);
        double seconds = double.Parse(args[3], CultureInfo.InvariantCulture);
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 1);
        List<Batch> batches = TrainingBenchmark.ImageBatches(sequence, batchSize);
        var config = new ModelConfig(sequence.Features, 128);
        var model = SequenceClassifier<float>.Initialize(config, seed: 1);
        using var runner = new BatchRunner(model, sequence.Steps, batchSize, threads);
        var adam = new Adam(model.Layout.Count);
        int step = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 1.5)
            TrainingBenchmark.Step(runner, adam, batches[step++ % batches.Count]);
        var times = new List<double>();
        clock.Restart();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            long start = Stopwatch.GetTimestamp();
            TrainingBenchmark.Step(runner, adam, batches[step++ % batches.Count]);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        double fast = times[times.Count / 5], median = times[times.Count / 2];
        double gflops = TrainingFlops.PerSample(config, sequence.Steps) * batchSize / (fast / 1000) / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{median:F4} {fast:F4} {gflops:F1} {times.Count}"));
    }
}
