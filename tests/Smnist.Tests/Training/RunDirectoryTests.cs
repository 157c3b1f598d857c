using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Tests.Training;

/// <summary>The run folder through the library alone, on sequences that are not images.</summary>
public class RunDirectoryTests
{
    private static InMemorySequenceSource Source(int count, int seed)
    {
        var random = new Random(seed);
        var inputs = new float[count * 6 * 2];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = random.Next(2);
            for (int k = 0; k < 12; k++)
                inputs[n * 12 + k] = (float)(random.NextDouble() - 0.5 + 0.3 * labels[n]);
        }
        return new InMemorySequenceSource(inputs, labels, steps: 6, features: 2, classes: 2);
    }

    [Fact]
    public void AStoppedRunContinuesFromItsFolderExactly()
    {
        InMemorySequenceSource train = Source(100, 1), test = Source(30, 2);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, Hidden = 8, Threads = 2, Seed = 4 };
        float[] uninterrupted;
        using (var whole = new Trainer(options, train, test))
        {
            whole.Fit();
            uninterrupted = whole.Model.Parameters.ToArray();
        }

        string directory = Path.Combine(Directory.CreateTempSubdirectory("smnist-rundir-").FullName, "run");
        try
        {
            using (RunDirectory run = RunDirectory.Create(directory, overwrite: false))
            using (var first = new Trainer(options with { MaxSteps = 10 }, train, test))
            {
                run.Begin(first, "custom", dataDirectory: null, initialWeights: null, otherFiles: []);
                first.EpochCompleted += _ => run.SaveProgress(first);
                first.Fit();
                run.SaveProgress(first);
                Assert.Equal(10, run.SavedStep);
                Assert.Equal(10, run.Losses.Count);
                // Held: a second run into the same folder is refused while this one lives.
                Assert.Throws<SmnistException>(() => RunDirectory.Open(directory));
            }
            Assert.Throws<SmnistException>(() => RunDirectory.Create(directory, overwrite: false));
            Assert.Equal("custom", RunDirectory.ReadConfig(directory)["sequence"]!.GetValue<string>());

            using (RunDirectory run = RunDirectory.Open(directory))
            using (Trainer resumed = Trainer.Resume(directory, train, test))
            {
                run.Continue(resumed, []);
                TrainingResult result = resumed.Fit();
                run.SaveProgress(resumed);
                string metrics = run.WriteMetrics(resumed, result.Test!);

                Assert.Equal(uninterrupted, resumed.Model.Parameters);
                Assert.Equal(resumed.Step, run.Losses.Count);
                Assert.Equal(Enumerable.Range(1, (int)resumed.Step).Select(s => (long)s), run.Losses.Select(p => p.Step));
                Assert.True(File.Exists(metrics));
            }
            Assert.Equal(SequenceView.Custom, ModelCheckpoint.Load(Path.Combine(directory, ModelCheckpoint.ModelFileName)).Sequence.View);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }
}
