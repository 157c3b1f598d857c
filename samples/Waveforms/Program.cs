// Trains an LSTM to tell four noisy waveforms apart — sine, square, sawtooth, triangle — of random frequency,
// phase and amplitude, seen by two sensors (d = 2) over 64 steps, using only Smnist's public API: a streamed
// training source, an in-memory test set, Fit, Evaluate, SaveModel, Load and Predict.
// Usage: dotnet run --project samples/Waveforms -c Release [-- --min-accuracy 0.9]
using System.Globalization;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

double minAccuracy = args is ["--min-accuracy", var text] ? double.Parse(text, CultureInfo.InvariantCulture) : 0;

var train = new WaveformSource(count: 4096, seed: 1);                 // generated as batches are asked for
var test = WaveformSource.InMemory(count: 1024, seed: 2);              // held as arrays
var options = new TrainingOptions { Epochs = 12, BatchSize = 32, Hidden = 64, LearningRate = 5e-3f, ClipNorm = 1f, Seed = 1, Threads = 2 };

using var trainer = new Trainer(options, train, test);
trainer.EpochCompleted += e => Console.WriteLine($"epoch {e.Epoch}: train loss {e.TrainLoss:F3}, test accuracy {e.TestAccuracy:P1}");
trainer.Fit();

EvaluationResult result = Evaluator.Evaluate(trainer.Model, test);
Console.WriteLine($"test accuracy {result.Accuracy:P1} on {result.Samples} waveforms");

string path = Path.Combine(Path.GetTempPath(), $"waveforms-{Environment.ProcessId}.safetensors");
trainer.SaveModel(path);
LoadedModel loaded = ModelCheckpoint.Load(path);
File.Delete(path);

float[] wave = WaveformSource.Generate(Shape.Triangle, frequency: 2.5, phase: 0.3, amplitude: 0.8, noise: 0.2, new Random(7));
int predicted = Predictor.Predict(loaded.Model, wave);
float[] probabilities = Predictor.Probabilities(loaded.Model, wave);
Console.WriteLine($"a noisy triangle wave: predicted {(Shape)predicted} ({probabilities[predicted]:P1})");

bool sameAfterLoad = Evaluator.Evaluate(loaded.Model, test).Accuracy == result.Accuracy;
if (!sameAfterLoad || result.Accuracy < minAccuracy)
{
    Console.Error.WriteLine(sameAfterLoad
        ? $"error: accuracy {result.Accuracy:P1} is below --min-accuracy {minAccuracy:P1}"
        : "error: the loaded model does not score as the trained one");
    return 1;
}
return 0;

/// <summary>The four classes.</summary>
internal enum Shape { Sine, Square, Sawtooth, Triangle }

/// <summary>
/// Noisy waveforms, made on demand: example i is drawn from (seed, i), so the same index always gives the same
/// sequence (which exact resume needs) and nothing is held in memory.
/// </summary>
internal sealed class WaveformSource(int count, int seed) : ISequenceSource
{
    public const int Length = 64;
    public const int Sensors = 2;

    public int Count => count;
    public int Steps => Length;
    public int Features => Sensors;
    public int Classes => 4;

    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int batch = examples.Length;
        for (int b = 0; b < batch; b++)
        {
            (float[] wave, int label) = Example(examples[b]);
            labels[b] = label;
            for (int t = 0; t < Length; t++)
                wave.AsSpan(t * Sensors, Sensors).CopyTo(inputs.Slice((t * batch + b) * Sensors, Sensors)); // (T, B, d)
        }
    }

    /// <summary>The same examples as arrays, for an <see cref="InMemorySequenceSource"/>.</summary>
    public static InMemorySequenceSource InMemory(int count, int seed)
    {
        var source = new WaveformSource(count, seed);
        var inputs = new float[count * Length * Sensors];  // (N, T, d)
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            (float[] wave, labels[i]) = source.Example(i);
            wave.CopyTo(inputs, i * Length * Sensors);
        }
        return new InMemorySequenceSource(inputs, labels, Length, Sensors, classes: 4);
    }

    private (float[] Wave, int Label) Example(int index)
    {
        var random = new Random(unchecked(seed * 1_000_003 + index)); // seeded Random is the same on every run and machine
        var shape = (Shape)random.Next(4);
        float[] wave = Generate(shape, frequency: 1 + 3 * random.NextDouble(), phase: random.NextDouble(),
            amplitude: 0.5 + 0.5 * random.NextDouble(), noise: 0.2, random);
        return (wave, (int)shape);
    }

    /// <summary>
    /// (T, d) values: sensor 0 sees the wave, sensor 1 the same wave a quarter period later; each adds Gaussian
    /// noise. <paramref name="frequency"/> is in cycles per sequence, <paramref name="phase"/> in cycles.
    /// </summary>
    public static float[] Generate(Shape shape, double frequency, double phase, double amplitude, double noise, Random random)
    {
        var wave = new float[Length * Sensors];
        for (int t = 0; t < Length; t++)
        {
            for (int s = 0; s < Sensors; s++)
            {
                double cycle = frequency * t / Length + phase + 0.25 * s;
                wave[t * Sensors + s] = (float)(amplitude * Value(shape, cycle - Math.Floor(cycle)) + noise * Gaussian(random));
            }
        }
        return wave;
    }

    /// <summary>The shape at <paramref name="x"/> in [0, 1) of its cycle, in [-1, 1].</summary>
    private static double Value(Shape shape, double x) => shape switch
    {
        Shape.Sine => Math.Sin(2 * Math.PI * x),
        Shape.Square => x < 0.5 ? 1 : -1,
        Shape.Sawtooth => 2 * x - 1,
        _ => 1 - 4 * Math.Abs(x - 0.5),
    };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
