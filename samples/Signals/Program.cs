// Tells three kinds of noisy signal apart — a steady tone, a chirp whose pitch rises, and bursts of tone with gaps —
// from recordings of 12 to 80 steps, trained as they are, without padding: each recording is read to its own end.
// Then reads one new recording as a stream, a step at a time, printing the running guess, and checks it against the
// whole recording's per-step answers. Public API only: ISequenceSource.LengthOf, Trainer, Evaluator, Predictor,
// StreamingReader.
// Usage: dotnet run --project samples/Signals -c Release [-- --min-accuracy 0.9]
using System.Globalization;
using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Training;

double minAccuracy = args is ["--min-accuracy", var text] ? double.Parse(text, CultureInfo.InvariantCulture) : 0;

var train = new SignalSource(count: 2048, seed: 1);
var test = new SignalSource(count: 512, seed: 2);
var options = new TrainingOptions { Epochs = 8, BatchSize = 32, Hidden = 32, LearningRate = 1e-2f, ClipNorm = 1f, Seed = 1, Threads = 2 };

using var trainer = new Trainer(options, train, test);
trainer.EpochCompleted += e => Console.WriteLine($"epoch {e.Epoch}: train loss {e.TrainLoss:F3}, test accuracy {e.TestAccuracy:P1}");
trainer.Fit();
EvaluationResult result = Evaluator.Evaluate(trainer.Model, test);
Console.WriteLine($"test accuracy {result.Accuracy:P1} on {result.Samples} recordings of {SignalSource.MinLength} to {SignalSource.MaxLength} steps");

// A chirp of 60 steps, read as it arrives. The reader keeps the state between steps and allocates nothing per step.
float[] chirp = SignalSource.Generate(Kind.Chirp, length: 60, new Random(11));
float[][] whole = Predictor.StepProbabilities(trainer.Model, chirp); // every step's answer, from one pass over the whole
var reader = new StreamingReader(trainer.Model);
reader.Reset();
double largestDifference = 0;
for (int t = 0; t < 60; t++)
{
    ReadOnlySpan<float> probabilities = reader.Step(chirp.AsSpan(t * SignalSource.Features, SignalSource.Features));
    for (int k = 0; k < probabilities.Length; k++)
        largestDifference = Math.Max(largestDifference, Math.Abs(probabilities[k] - whole[t][k]));
    int guess = TensorPrimitives.IndexOfMax(probabilities);
    if ((t + 1) % 10 == 0)
        Console.WriteLine($"after step {t + 1}: {(Kind)guess} ({probabilities[guess]:P0})");
}
Console.WriteLine($"stream against the whole recording: largest difference {largestDifference:G2}");

if (largestDifference > 1e-6 || result.Accuracy < minAccuracy)
{
    Console.Error.WriteLine(largestDifference > 1e-6
        ? $"error: the stream's answers differ from the whole recording's by {largestDifference:G2}"
        : $"error: accuracy {result.Accuracy:P1} is below --min-accuracy {minAccuracy:P1}");
    return 1;
}
return 0;

/// <summary>The three classes.</summary>
internal enum Kind { Tone, Chirp, Bursts }

/// <summary>
/// Recordings of different lengths, made on demand: recording i is drawn from (seed, i), so the same index always
/// gives the same sequence. <see cref="LengthOf"/> tells the engine each one's length; the loader sorts every batch
/// by length, and steps beyond a length are written as zeros, which the engine never reads.
/// </summary>
internal sealed class SignalSource(int count, int seed) : ISequenceSource
{
    public const int MinLength = 12, MaxLength = 80, Features = 1;

    public int Count => count;
    public int Steps => MaxLength;
    int ISequenceSource.Features => Features;
    public int Classes => 3;

    public int LengthOf(int example) => Example(example).Signal.Length / Features;

    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int batch = examples.Length;
        for (int b = 0; b < batch; b++)
        {
            (float[] signal, labels[b]) = Example(examples[b]);
            for (int t = 0; t < MaxLength; t++)
                inputs[t * batch + b] = t < signal.Length ? signal[t] : 0f; // (T, B, d) with d = 1
        }
    }

    private (float[] Signal, int Label) Example(int index)
    {
        var random = new Random(unchecked(seed * 1_000_003 + index)); // seeded Random is the same on every run and machine
        var kind = (Kind)random.Next(3);
        return (Generate(kind, random.Next(MinLength, MaxLength + 1), random), (int)kind);
    }

    /// <summary>(length) samples of a signal of <paramref name="kind"/>, with Gaussian noise.</summary>
    public static float[] Generate(Kind kind, int length, Random random)
    {
        double frequency = 0.08 + 0.08 * random.NextDouble(), phase = random.NextDouble(), angle = 2 * Math.PI * phase;
        var signal = new float[length];
        for (int t = 0; t < length; t++)
        {
            double pitch = kind == Kind.Chirp ? frequency * (0.5 + 1.5 * t / MaxLength) : frequency;
            angle += 2 * Math.PI * pitch;
            bool silent = kind == Kind.Bursts && (t / 6 + (int)(phase * 2)) % 2 == 1;
            signal[t] = (float)((silent ? 0 : Math.Sin(angle)) + 0.3 * Gaussian(random));
        }
        return signal;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
