using System.Diagnostics;
using Smnist.Data;
using Smnist.Kernels;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>
/// Measured speed of whole training steps, with the FLOP count of a sample's matrix products
/// (<paramref name="FlopsPerSample"/>) and the fp32 multiply-add peak per core measured with <paramref name="Threads"/>
/// cores running at once (<paramref name="PeakGflopsPerCore"/>).
/// </summary>
public sealed record BenchmarkResult(SequenceView View, int Layers, int BatchSize, int Hidden, int Steps, int Threads, double SamplesPerSecond, double MillisecondsPerStep,
    double FlopsPerSample, double PeakGflopsPerCore)
{
    /// <summary>Matrix-product GFLOP/s of the training steps: samples/s × FLOP per sample.</summary>
    public double Gflops => SamplesPerSecond * FlopsPerSample / 1e9;

    /// <summary><see cref="Gflops"/> as a fraction of the ceiling, <see cref="Threads"/> × <see cref="PeakGflopsPerCore"/>.</summary>
    public double FractionOfPeak => Gflops / (Threads * PeakGflopsPerCore);
}

/// <summary>
/// Measured speed of a ragged batch against the same data padded to its longest length: the medians over the
/// alternating rounds, and the median of the rounds' ratios.
/// </summary>
public sealed record RaggedBenchmarkResult(int MaxLength, int BatchSize, int Hidden, int Features, int Threads, int Rounds,
    double RaggedSamplesPerSecond, double PaddedSamplesPerSecond, double Speedup);

/// <summary>Where a <see cref="TrainingBenchmark"/> run stands, reported after every step (a step of a large batch at 784 timesteps takes minutes).</summary>
/// <param name="WarmingUp">True during the untimed warm-up, false while steps are timed.</param>
/// <param name="Step">Steps done in this phase.</param>
/// <param name="Steps">The steps this phase takes: the warm-up's minimum, or the timed steps.</param>
/// <param name="TimedSteps">The timed steps that follow the warm-up (or are under way).</param>
/// <param name="Seconds">Time spent in this phase so far.</param>
public readonly record struct BenchmarkProgress(bool WarmingUp, int Step, int Steps, int TimedSteps, double Seconds);

/// <summary>Times whole training steps, as <c>smnist bench</c> does.</summary>
public static class TrainingBenchmark
{
    /// <summary>
    /// Times whole training steps (forward, backward, Adam) on MNIST-shaped data already in memory (the images in
    /// the <paramref name="view"/> sequence view, as prepared batches), after untimed warm-up steps: at least
    /// <paramref name="warmupSteps"/> and <paramref name="warmupSeconds"/>, long enough for tiered compilation to
    /// settle, so the figure is the steady speed a training run sees. A short probe measures the cores' multiply-add
    /// peak (<see cref="FmaPeak"/>) before the warm-up and again after the timed steps, on as many threads at once as the
    /// steps use; the peak is the mean of the two.
    /// <paramref name="progress"/>, when given, hears of every step. <paramref name="refineGate"/> times UR-LSTM layers
    /// (<see cref="ModelConfig.RefineGate"/>).
    /// </summary>
    public static BenchmarkResult Run(int batchSize = 32, int hidden = 128, int steps = 200, int threads = 0, int warmupSteps = 20, double warmupSeconds = 1.5,
        SequenceView view = SequenceView.Rows, int layers = 1, IProgress<BenchmarkProgress>? progress = null, bool refineGate = false)
    {
        if (batchSize < 1 || hidden < 1 || steps < 1 || threads < 0 || warmupSteps < 0 || warmupSeconds < 0 || layers < 1)
            throw new SmnistException("bench needs a positive batch size, hidden size, layer count and step count, and threads ≥ 0");
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 1);
        List<Batch> batches = ImageBatches(sequence, batchSize);
        var config = new ModelConfig(sequence.Features, hidden, layers) { RefineGate = refineGate };
        var model = SequenceClassifier<float>.Initialize(config, seed: 1);
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        using var runner = new BatchRunner(model, sequence.Steps, batchSize, workers);
        double peakBefore = FmaPeak.MeasureGflopsPerCore(runner.Workers);
        var adam = new Adam(model.Layout.Count);
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < warmupSteps || clock.Elapsed.TotalSeconds < warmupSeconds; k++)
        {
            Step(runner, adam, batches[k % batches.Count]);
            progress?.Report(new BenchmarkProgress(WarmingUp: true, k + 1, warmupSteps, steps, clock.Elapsed.TotalSeconds));
        }
        clock.Restart();
        for (int k = 0; k < steps; k++)
        {
            Step(runner, adam, batches[k % batches.Count]);
            progress?.Report(new BenchmarkProgress(WarmingUp: false, k + 1, steps, steps, clock.Elapsed.TotalSeconds));
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // The ceiling read on both sides of the steps, so a core's clock that drifts during the run moves both alike.
        double peakGflopsPerCore = (peakBefore + FmaPeak.MeasureGflopsPerCore(runner.Workers)) / 2;
        return new BenchmarkResult(view, layers, batchSize, hidden, steps, runner.Workers, steps * batchSize / seconds, seconds * 1000 / steps,
            TrainingFlops.PerSample(config, sequence.Steps), peakGflopsPerCore);
    }

    /// <summary>
    /// Four batches of random MNIST-shaped images in the <paramref name="sequence"/> view, prepared up front to be cycled,
    /// so that a timing is the training step alone.
    /// </summary>
    internal static List<Batch> ImageBatches(SequenceLayout sequence, int batchSize)
    {
        var images = new byte[batchSize * 4 * ImageSet.Pixels];
        var labels = new byte[batchSize * 4];
        var random = DeterministicRandom.For(7, RandomStreams.Synthetic, 0);
        for (int k = 0; k < images.Length; k++)
            images[k] = (byte)random.NextUInt64();
        for (int k = 0; k < labels.Length; k++)
            labels[k] = (byte)(random.NextUInt64() % ImageSet.Classes);
        using var loader = new BatchLoader(new MnistSource(new ImageSet(images, labels), sequence), batchSize, shuffle: false, seed: 1);
        var batches = new List<Batch>();
        foreach (Batch batch in loader.Epoch(0))
            batches.Add(Copy(batch, sequence));
        return batches;
    }

    /// <summary>Batches the ragged comparison trains on, in turn.</summary>
    internal const int RaggedBatches = 4;

    /// <summary>
    /// Times training on batches of sequences whose lengths are uniform in [T/4, T] (T = <paramref name="maxLength"/>)
    /// against the same sequences padded with zeros to T, the usual workaround: <paramref name="rounds"/> rounds of
    /// <paramref name="steps"/> steps each way, alternating which goes first, after warm-up. Random values, d =
    /// <paramref name="features"/>, 10 classes. By default a round is one step on each of the four batches each way
    /// (about 0.1 s): the shorter the rounds, the more alike the two sides of a round find a shared machine, and the
    /// median of many rounds' ratios sets aside those it disturbed.
    /// </summary>
    public static RaggedBenchmarkResult RunRagged(int maxLength = 200, int batchSize = 32, int hidden = 128, int features = 8, int steps = RaggedBatches, int rounds = 25, int threads = 0)
    {
        if (maxLength < 4 || batchSize < 1 || hidden < 1 || features < 1 || steps < 1 || rounds < 1 || threads < 0)
            throw new SmnistException("the ragged bench needs a longest length of at least 4, a positive batch size, hidden size, step and round count, and threads ≥ 0");
        int count = RaggedBatches * batchSize;
        var random = DeterministicRandom.For(7, RandomStreams.Synthetic, 1);
        var lengths = new int[count];
        var labels = new int[count];
        var values = new float[count * maxLength * features]; // (N, T, d), zeros beyond each length
        for (int example = 0; example < count; example++)
        {
            lengths[example] = maxLength / 4 + (int)(random.NextUInt64() % (ulong)(maxLength - maxLength / 4 + 1));
            labels[example] = (int)(random.NextUInt64() % 10);
            for (int k = 0; k < lengths[example] * features; k++)
                values[example * maxLength * features + k] = (float)random.NextDouble();
        }
        var padded = new InMemorySequenceSource(values, labels, maxLength, features, classes: 10);
        Measured ragged = new(new BenchmarkSource(padded, lengths), batchSize, hidden, threads);
        Measured paddedRun = new(padded, batchSize, hidden, threads);

        var raggedSpeeds = new double[rounds];
        var paddedSpeeds = new double[rounds];
        var ratios = new double[rounds];
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < 20 || clock.Elapsed.TotalSeconds < 3; k++)
        {
            ragged.Step(k);
            paddedRun.Step(k);
        }
        for (int round = 0; round < rounds; round++)
        {
            bool raggedFirst = round % 2 == 0;
            (raggedFirst ? ragged : paddedRun).Time(steps);
            (raggedFirst ? paddedRun : ragged).Time(steps);
            raggedSpeeds[round] = ragged.SamplesPerSecond;
            paddedSpeeds[round] = paddedRun.SamplesPerSecond;
            ratios[round] = ragged.SamplesPerSecond / paddedRun.SamplesPerSecond;
        }
        int workers = ragged.Workers;
        ragged.Dispose();
        paddedRun.Dispose();
        return new RaggedBenchmarkResult(maxLength, batchSize, hidden, features, workers, rounds, Median(raggedSpeeds), Median(paddedSpeeds), Median(ratios));
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>One side of the ragged comparison: its batches prepared up front, a model, a runner and Adam.</summary>
    private sealed class Measured : IDisposable
    {
        private readonly List<Batch> _batches = [];
        private readonly BatchRunner _runner;
        private readonly Adam _adam;
        private readonly int _batchSize;

        public Measured(ISequenceSource source, int batchSize, int hidden, int threads)
        {
            using var loader = new BatchLoader(source, batchSize, shuffle: false, seed: 1);
            foreach (Batch batch in loader.Epoch(0))
                _batches.Add(Copy(batch, source.Steps, source.Features));
            var model = SequenceClassifier<float>.Initialize(new ModelConfig(source.Features, hidden, Classes: source.Classes), seed: 1);
            _runner = new BatchRunner(model, source.Steps, batchSize, threads > 0 ? threads : Environment.ProcessorCount);
            _adam = new Adam(model.Layout.Count);
            _batchSize = batchSize;
        }

        public int Workers => _runner.Workers;

        public double SamplesPerSecond { get; private set; }

        public void Step(int k) => TrainingBenchmark.Step(_runner, _adam, _batches[k % _batches.Count]);

        public void Time(int steps)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < steps; k++)
                Step(k);
            SamplesPerSecond = steps * _batchSize / clock.Elapsed.TotalSeconds;
        }

        public void Dispose() => _runner.Dispose();
    }

    /// <summary>The padded sequences read at their own lengths.</summary>
    private sealed class BenchmarkSource(InMemorySequenceSource padded, int[] lengths) : ISequenceSource
    {
        public int Count => padded.Count;

        public int Steps => padded.Steps;

        public int Features => padded.Features;

        public int Classes => padded.Classes;

        public int LengthOf(int example) => lengths[example];

        public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels) =>
            padded.Fill(examples, position, inputs, labels);
    }

    private static Batch Copy(Batch batch, SequenceLayout sequence) => Copy(batch, sequence.Steps, sequence.Features);

    private static Batch Copy(Batch batch, int steps, int features)
    {
        var copy = new Batch(steps, features, batch.Capacity) { Size = batch.Size };
        batch.Inputs.CopyTo(copy.Inputs, 0);
        batch.Labels.CopyTo(copy.Labels, 0);
        batch.Lengths.CopyTo(copy.Lengths, 0);
        return copy;
    }

    /// <summary>One training step as training takes it: forward and backward over <paramref name="batch"/>, then Adam.</summary>
    internal static void Step(BatchRunner runner, Adam adam, Batch batch)
    {
        runner.TrainStep(batch);
        runner.Update(adam, 1e-3f, clipNorm: null);
    }
}
