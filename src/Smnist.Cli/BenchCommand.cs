using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary><c>smnist bench</c>: speed of whole training steps on MNIST-shaped data already in memory.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var batchSize = CliOptions.Number("--batch-size", "N", "Examples per step", 1, 65_536, "default: 32");
        var hidden = CliOptions.Number("--hidden", "N", "LSTM units", 1, 4096, "default: 128");
        var steps = CliOptions.Number("--steps", "N", "Timed steps, after untimed warm-up (at least 20 steps and 1.5 s, so the JIT has settled)", 1, 1_000_000, "default: 200");
        var threads = CliOptions.Number("--threads", "N", "Worker threads; 0 for one per processor", 0, 256, "default: 0");
        var sequence = CliOptions.Choice("--sequence", "Sequence view of the images: 28 rows of 28 pixels, 784 pixels, or 784 permuted pixels [default: rows]",
            Enum.GetValues<SequenceView>().Where(v => v is not (SequenceView.Custom or SequenceView.Strokes)).ToDictionary(SequenceLayout.NameOf));
        var layers = CliOptions.Number("--layers", "N", "Stacked LSTM layers", 1, 16, "default: 1");
        var json = CliOptions.Flag("--json", "Print one JSON object (samples_per_second, ms_per_step, ...) and nothing else on stdout");
        var refineGate = CliOptions.Flag("--refine-gate", "Time UR-LSTM layers (train --refine-gate) instead of plain LSTM ones");
        var ragged = CliOptions.Number("--ragged", "T", "Instead, compare sequences of lengths uniform in [T/4, T] with the same sequences padded to T (8 features; 25 alternating rounds of --steps timed steps, default 4: one on each of 4 batches)", 4, 100_000, "off");

        var command = new Command("bench", "Time training steps (forward, backward, Adam) on in-memory MNIST-shaped batches") { batchSize, hidden, steps, threads, sequence, layers, json, ragged, refineGate };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(ragged) is int maxLength)
            {
                RaggedBenchmarkResult comparison = TrainingBenchmark.RunRagged(maxLength, parsed.GetValue(batchSize) ?? 32, parsed.GetValue(hidden) ?? 128,
                    steps: parsed.GetValue(steps) ?? TrainingBenchmark.RaggedBatches, threads: parsed.GetValue(threads) ?? 0);
                context.Output.WriteLine(parsed.GetValue(json)
                    ? new JsonObject
                    {
                        ["max_length"] = comparison.MaxLength,
                        ["ragged_samples_per_second"] = comparison.RaggedSamplesPerSecond,
                        ["padded_samples_per_second"] = comparison.PaddedSamplesPerSecond,
                        ["speedup"] = comparison.Speedup,
                        ["batch_size"] = comparison.BatchSize,
                        ["hidden"] = comparison.Hidden,
                        ["features"] = comparison.Features,
                        ["rounds"] = comparison.Rounds,
                        ["threads"] = comparison.Threads,
                    }.ToJsonString()
                    : string.Create(CultureInfo.InvariantCulture,
                        $"ragged {comparison.RaggedSamplesPerSecond:F0} samples/s, padded {comparison.PaddedSamplesPerSecond:F0} samples/s: {comparison.Speedup:F2}x (lengths {comparison.MaxLength / 4}..{comparison.MaxLength}, batch {comparison.BatchSize}, hidden {comparison.Hidden}, {comparison.Threads} threads, medians of {comparison.Rounds} alternating rounds)"));
                return 0;
            }
            BenchmarkResult result;
            using (var progress = new BenchProgressLines(context.Error, BenchProgressLines.DefaultInterval))
            {
                result = TrainingBenchmark.Run(
                    parsed.GetValue(batchSize) ?? 32, parsed.GetValue(hidden) ?? 128, parsed.GetValue(steps) ?? 200, parsed.GetValue(threads) ?? 0,
                    view: parsed.GetValue(sequence) ?? SequenceView.Rows, layers: parsed.GetValue(layers) ?? 1, progress: progress, refineGate: parsed.GetValue(refineGate));
            }
            if (parsed.GetValue(json))
            {
                context.Output.WriteLine(new JsonObject
                {
                    ["sequence"] = SequenceLayout.NameOf(result.View),
                    ["layers"] = result.Layers,
                    ["refine_gate"] = parsed.GetValue(refineGate),
                    ["samples_per_second"] = result.SamplesPerSecond,
                    ["ms_per_step"] = result.MillisecondsPerStep,
                    ["batch_size"] = result.BatchSize,
                    ["hidden"] = result.Hidden,
                    ["steps"] = result.Steps,
                    ["threads"] = result.Threads,
                    ["flops_per_sample"] = result.FlopsPerSample,
                    ["gflops"] = result.Gflops,
                    ["peak_gflops_per_core"] = result.PeakGflopsPerCore,
                    ["fraction_of_peak"] = result.FractionOfPeak,
                }.ToJsonString());
            }
            else
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.SamplesPerSecond:F0} samples/s, {result.MillisecondsPerStep:F2} ms/step ({SequenceLayout.NameOf(result.View)}, {result.Layers} layer(s){(parsed.GetValue(refineGate) ? " with the refine gate" : "")}, batch {result.BatchSize}, hidden {result.Hidden}, {result.Threads} threads, {result.Steps} timed steps)\n" +
                    $"{result.Gflops:F1} GFLOP/s at {result.FlopsPerSample / 1e6:F1} MFLOP/sample: {100 * result.FractionOfPeak:F1} % of peak ({result.Threads} × {result.PeakGflopsPerCore:F1} GFLOP/s per core, measured)"));
            }
            return 0;
        });
        return command;
    }
}

/// <summary>
/// A line on stderr every <c>interval</c> while a benchmark runs, so a long one (a large batch at 784 timesteps
/// takes minutes a step) shows where it stands and how long it has left; a run shorter than the interval prints
/// nothing. On stderr, so <c>--json</c> keeps stdout to its one object.
/// </summary>
internal sealed class BenchProgressLines : IProgress<BenchmarkProgress>, IDisposable
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly TextWriter _error;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _printer;
    private BenchmarkProgress? _latest;
    private bool _done;

    public BenchProgressLines(TextWriter error, TimeSpan interval)
    {
        _error = error;
        // A thread of its own rather than a thread-pool timer: the benchmark's workers can keep the pool busy, and a
        // starved timer would print nothing until the run had ended.
        _printer = new Thread(() =>
        {
            while (!_stop.Wait(interval))
                Print();
        })
        { IsBackground = true, Name = "bench progress" };
        _printer.Start();
    }

    public void Report(BenchmarkProgress value)
    {
        lock (_lock)
            _latest = value;
    }

    public void Dispose()
    {
        lock (_lock)
            _done = true;
        _stop.Set();
        _printer.Join();
        _stop.Dispose();
    }

    /// <summary>The line for <paramref name="latest"/> (null before the first step ends), <paramref name="elapsed"/> into the run.</summary>
    public static string Describe(BenchmarkProgress? latest, TimeSpan elapsed)
    {
        string clock = EpochProgress.Clock(elapsed);
        if (latest is not { } p)
            return $"bench: elapsed {clock}, the first warm-up step is still running";
        double perStep = p.Seconds / p.Step;
        // The warm-up runs at least its minimum of steps, then every timed step follows.
        int left = p.WarmingUp ? Math.Max(p.Steps - p.Step, 0) + p.TimedSteps : p.Steps - p.Step;
        string phase = p.WarmingUp ? $"warm-up step {p.Step} (at least {p.Steps}), then {p.TimedSteps} timed steps" : $"timed step {p.Step}/{p.Steps}";
        return string.Create(CultureInfo.InvariantCulture,
            $"bench: {phase}, {perStep:F2} s/step, elapsed {clock}, eta {EpochProgress.Clock(TimeSpan.FromSeconds(left * perStep))}");
    }

    private void Print()
    {
        lock (_lock)
        {
            if (!_done)
                _error.WriteLine(Describe(_latest, _clock.Elapsed));
        }
    }
}
