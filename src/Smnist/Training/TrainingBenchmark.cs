using System.Diagnostics;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>Measured speed of whole training steps.</summary>
public sealed record BenchmarkResult(SequenceView View, int Layers, int BatchSize, int Hidden, int Steps, int Threads, double SamplesPerSecond, double MillisecondsPerStep);

/// <summary>Times whole training steps, as <c>smnist bench</c> does.</summary>
public static class TrainingBenchmark
{
    /// <summary>
    /// Times whole training steps (forward, backward, Adam) on MNIST-shaped data already in memory (the images in
    /// the <paramref name="view"/> sequence view, as prepared batches), after untimed warm-up steps: at least
    /// <paramref name="warmupSteps"/> and <paramref name="warmupSeconds"/>, long enough for tiered compilation to
    /// settle, so the figure is the steady speed a training run sees.
    /// </summary>
    public static BenchmarkResult Run(int batchSize = 32, int hidden = 128, int steps = 200, int threads = 0, int warmupSteps = 20, double warmupSeconds = 1.5,
        SequenceView view = SequenceView.Rows, int layers = 1)
    {
        if (batchSize < 1 || hidden < 1 || steps < 1 || threads < 0 || warmupSteps < 0 || warmupSeconds < 0 || layers < 1)
            throw new SmnistException("bench needs a positive batch size, hidden size, layer count and step count, and threads ≥ 0");
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 1);
        var images = new byte[batchSize * 4 * ImageSet.Pixels];
        var labels = new byte[batchSize * 4];
        var random = DeterministicRandom.For(7, RandomStreams.Synthetic, 0);
        for (int k = 0; k < images.Length; k++)
            images[k] = (byte)random.NextUInt64();
        for (int k = 0; k < labels.Length; k++)
            labels[k] = (byte)(random.NextUInt64() % ImageSet.Classes);
        // Four batches prepared up front and cycled, so the timing is the training step alone.
        using var loader = new BatchLoader(new MnistSource(new ImageSet(images, labels), sequence), batchSize, shuffle: false, seed: 1);
        var batches = new List<Batch>();
        foreach (Batch batch in loader.Epoch(0))
            batches.Add(Copy(batch, sequence));

        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, hidden, layers), seed: 1);
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        using var runner = new BatchRunner(model, sequence.Steps, batchSize, workers);
        var adam = new Adam(model.Layout.Count);
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < warmupSteps || clock.Elapsed.TotalSeconds < warmupSeconds; k++)
            Step(runner, adam, batches[k % batches.Count]);
        clock.Restart();
        for (int k = 0; k < steps; k++)
            Step(runner, adam, batches[k % batches.Count]);
        double seconds = clock.Elapsed.TotalSeconds;
        return new BenchmarkResult(view, layers, batchSize, hidden, steps, runner.Workers, steps * batchSize / seconds, seconds * 1000 / steps);
    }

    private static Batch Copy(Batch batch, SequenceLayout sequence)
    {
        var copy = new Batch(sequence.Steps, sequence.Features, batch.Capacity) { Size = batch.Size };
        batch.Inputs.CopyTo(copy.Inputs, 0);
        batch.Labels.CopyTo(copy.Labels, 0);
        return copy;
    }

    private static void Step(BatchRunner runner, Adam adam, Batch batch)
    {
        runner.TrainStep(batch);
        adam.Update(runner.Model.Parameters, runner.Gradient, 1e-3f);
    }
}
