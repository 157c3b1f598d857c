using System.CommandLine;
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

        var command = new Command("bench", "Time training steps (forward, backward, Adam) on in-memory MNIST-shaped batches") { batchSize, hidden, steps, threads, sequence, layers, json };
        command.SetAction(parsed =>
        {
            BenchmarkResult result = TrainingBenchmark.Run(
                parsed.GetValue(batchSize) ?? 32, parsed.GetValue(hidden) ?? 128, parsed.GetValue(steps) ?? 200, parsed.GetValue(threads) ?? 0,
                view: parsed.GetValue(sequence) ?? SequenceView.Rows, layers: parsed.GetValue(layers) ?? 1);
            if (parsed.GetValue(json))
            {
                context.Output.WriteLine(new JsonObject
                {
                    ["sequence"] = SequenceLayout.NameOf(result.View),
                    ["layers"] = result.Layers,
                    ["samples_per_second"] = result.SamplesPerSecond,
                    ["ms_per_step"] = result.MillisecondsPerStep,
                    ["batch_size"] = result.BatchSize,
                    ["hidden"] = result.Hidden,
                    ["steps"] = result.Steps,
                    ["threads"] = result.Threads,
                }.ToJsonString());
            }
            else
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.SamplesPerSecond:F0} samples/s, {result.MillisecondsPerStep:F2} ms/step ({SequenceLayout.NameOf(result.View)}, {result.Layers} layer(s), batch {result.BatchSize}, hidden {result.Hidden}, {result.Threads} threads, {result.Steps} timed steps)"));
            }
            return 0;
        });
        return command;
    }
}
