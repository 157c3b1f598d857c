using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Tests.Training;

/// <summary>The public API on sequences that are not images: in memory, streamed, trained, resumed, saved and predicted.</summary>
[Trait("Category", "unit")]
public class SequenceSourceTests
{
    private const int Steps = 12, Features = 3, Classes = 3;

    private static readonly InMemorySequenceSource Train = Loudest(300, seed: 1);
    private static readonly InMemorySequenceSource Test = Loudest(90, seed: 2);

    private static TrainingOptions Options => new() { Epochs = 4, BatchSize = 16, Hidden = 16, LearningRate = 1e-2f, Seed = 3, Threads = 2 };

    [Fact]
    public void LearnsWhichChannelIsLoudest()
    {
        using var trainer = new Trainer(Options, Train, Test);
        TrainingResult result = trainer.Fit();

        Assert.True(result.Completed);
        Assert.True(result.Test!.Accuracy > 0.9, $"accuracy {result.Test.Accuracy}");
        Assert.Equal(SequenceView.Custom, trainer.Sequence.View);
        Assert.Equal((Steps, Features), (trainer.Sequence.Steps, trainer.Sequence.Features));
        Assert.Equal(4, trainer.History.Count);
    }

    [Fact]
    public void InMemorySourceWritesTimeMajorBatches()
    {
        var inputs = new float[3 * 2 * 2]; // (N=3, T=2, d=2): value = 100 n + 10 t + f
        for (int n = 0; n < 3; n++)
        {
            for (int t = 0; t < 2; t++)
            {
                for (int f = 0; f < 2; f++)
                    inputs[(n * 2 + t) * 2 + f] = 100 * n + 10 * t + f;
            }
        }
        var source = new InMemorySequenceSource(inputs, [0, 1, 0], steps: 2, features: 2, classes: 2);

        var batch = new float[2 * 2 * 2]; // (T, B=2, d)
        var labels = new int[2];
        source.Fill([2, 1], new BatchPosition(0, 0), batch, labels);

        Assert.Equal([200, 201, 100, 101, 210, 211, 110, 111], batch);
        Assert.Equal([0, 1], labels);
    }

    [Fact]
    public void StreamedSourceTrainsAsTheSameDataInMemory()
    {
        using var inMemory = new Trainer(Options with { MaxSteps = 25 }, Train, Test);
        inMemory.Fit();
        using var streamed = new Trainer(Options with { MaxSteps = 25 }, new Streamed(Train), new Streamed(Test));
        streamed.Fit();

        Assert.Equal(inMemory.Model.Parameters, streamed.Model.Parameters);
    }

    [Fact]
    public void ResumeOnASourceContinuesExactly()
    {
        float[] uninterrupted;
        using (var whole = new Trainer(Options with { MaxSteps = 30 }, Train, Test))
        {
            whole.Fit();
            uninterrupted = whole.Model.Parameters.ToArray();
        }
        string directory = Directory.CreateTempSubdirectory("smnist-sequences-").FullName;
        try
        {
            using (var first = new Trainer(Options with { MaxSteps = 11 }, Train, Test))
            {
                first.Fit();
                first.SaveCheckpoint(directory);
            }
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test, changes: new ResumeChanges(MaxSteps: 30));
            Assert.Equal(11, resumed.Step);
            resumed.Fit();
            Assert.Equal(uninterrupted, resumed.Model.Parameters);

            // A run on sequences is not resumed as an image run.
            Assert.Throws<SmnistException>(() => Trainer.Resume(ResumableRun.Read(directory), SyntheticDigits.Create(32, 1), SyntheticDigits.Create(32, 2)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void SavedModelLoadsAndPredictsTheSame()
    {
        using var trainer = new Trainer(Options with { MaxSteps = 20 }, Train, Test);
        trainer.Fit();
        string path = Path.Combine(Directory.CreateTempSubdirectory("smnist-model-").FullName, "model.safetensors");
        try
        {
            trainer.SaveModel(path);
            LoadedModel loaded = ModelCheckpoint.Load(path);

            Assert.Equal(SequenceView.Custom, loaded.Sequence.View);
            Assert.Equal(Steps, loaded.Sequence.Steps);
            Assert.Equal(trainer.Model.Parameters, loaded.Model.Parameters);
            float[] sequence = Loudest(1, seed: 9).Sequence(0);
            Assert.Equal(Predictor.Probabilities(trainer.Model, sequence), Predictor.Probabilities(loaded.Model, sequence));
            Assert.Equal(Evaluator.Evaluate(trainer.Model, Test, threads: 1).Loss, Evaluator.Evaluate(loaded.Model, Test, threads: 2).Loss);

            // Not an image model: the image paths say so instead of reading pixels that are not there.
            Assert.Throws<SmnistException>(() => Predictor.Probabilities(loaded.Model, loaded.Sequence, new byte[ImageSet.Pixels]));
            Assert.Throws<SmnistException>(() => new MnistSource(SyntheticDigits.Create(4, 1), loaded.Sequence));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void PredictionsAgreeWithTheBatchedEvaluationAtAnotherLength()
    {
        using var trainer = new Trainer(Options, Train, Test);
        trainer.Fit();
        // The LSTM reads sequences of any length: 20 steps where it was trained on 12.
        InMemorySequenceSource longer = Loudest(40, seed: 5, steps: 20);
        int correct = 0;
        for (int n = 0; n < longer.Count; n++)
        {
            if (Predictor.Predict(trainer.Model, longer.Sequence(n)) == longer.Label(n))
                correct++;
        }

        EvaluationResult evaluation = Evaluator.Evaluate(trainer.Model, longer, threads: 2);
        Assert.Equal((double)correct / longer.Count, evaluation.Accuracy);
        Assert.True(evaluation.Accuracy > 0.8, $"accuracy {evaluation.Accuracy}");
    }

    [Fact]
    public void InMemorySourceRefusesInconsistentData()
    {
        Assert.Throws<ArgumentException>(() => new InMemorySequenceSource(new float[10], [0], steps: 2, features: 2, classes: 2));
        Assert.Throws<ArgumentException>(() => new InMemorySequenceSource(new float[4], [2], steps: 2, features: 2, classes: 2));
        Assert.Throws<ArgumentException>(() => new InMemorySequenceSource([0, 0, float.NaN, 0], [1], steps: 2, features: 2, classes: 2));
        Assert.Throws<SmnistException>(() => new Trainer(Options, Train, Loudest(10, seed: 1, features: 2)));
    }

    /// <summary>Noise on every channel, one channel (the class) raised: which one is loudest over the sequence.</summary>
    private static InMemorySequenceSource Loudest(int count, int seed, int steps = Steps, int features = Features)
    {
        var random = new Random(seed);
        var inputs = new float[count * steps * features];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = random.Next(Classes);
            for (int t = 0; t < steps; t++)
            {
                for (int f = 0; f < features; f++)
                    inputs[(n * steps + t) * features + f] = (float)(random.NextDouble() - 0.5 + (f == labels[n] ? 0.4 : 0));
            }
        }
        return new InMemorySequenceSource(inputs, labels, steps, features, Classes);
    }

    /// <summary>A source that hands out another source's examples one by one, as a user's streaming source would.</summary>
    private sealed class Streamed(InMemorySequenceSource inner) : ISequenceSource
    {
        public int Count => inner.Count;
        public int Steps => inner.Steps;
        public int Features => inner.Features;
        public int Classes => inner.Classes;

        public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
        {
            for (int b = 0; b < examples.Length; b++)
            {
                float[] sequence = inner.Sequence(examples[b]); // (T, d)
                labels[b] = inner.Label(examples[b]);
                for (int t = 0; t < Steps; t++)
                    sequence.AsSpan(t * Features, Features).CopyTo(inputs.Slice((t * examples.Length + b) * Features));
            }
        }
    }
}
