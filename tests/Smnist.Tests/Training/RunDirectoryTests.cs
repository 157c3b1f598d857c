using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Tests.Cli;
using Smnist.Training;

namespace Smnist.Tests.Training;

/// <summary>The run folder through the library alone, on sequences that are not images.</summary>
[Trait("Category", "unit")]
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

        using CliHarness.TempDirectory temp = CliHarness.TempDir();
        string directory = temp["run"];
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
        using (Trainer resumed = Trainer.Resume(ResumableRun.Read(directory), train, test))
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

    [Fact]
    public void AnAdamStepAheadOfLossCsvIsRefused()
    {
        // Adam's step is the run's position; raised within the epoch, it agrees with everything else in the
        // checkpoint, and loss.csv, which is written before the checkpoint and so never behind it, tells.
        InMemorySequenceSource train = Source(100, 1);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, Hidden = 8, Threads = 2, Seed = 4, MaxSteps = 3 };
        using CliHarness.TempDirectory temp = CliHarness.TempDir();
        string directory = temp["run"];
        TrainIntoNewRun(directory, options, train);
        string path = Path.Combine(directory, RunDirectory.CheckpointFileName);
        SafeTensorsFile file = SafeTensors.Read(path);
        SafeTensors.Write(path, file.Tensors, new Dictionary<string, string>(file.Metadata) { ["adam.step"] = "5" });

        using RunDirectory again = RunDirectory.Open(directory);
        using Trainer resumed = Trainer.Resume(ResumableRun.Read(directory), train);
        Assert.Equal(5, resumed.Step);
        var error = Assert.Throws<SmnistException>(() => again.Continue(resumed, []));
        Assert.Equal($"{Path.Combine(directory, RunDirectory.LossFileName)}: holds 3 steps but the checkpoint is at step 5; the file does not belong to this checkpoint", error.Message);
    }

    [Fact]
    public void ConfigJsonHoldsTheOptionsAsTheCheckpointDoes()
    {
        InMemorySequenceSource train = Source(40, 1);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 16, Hidden = 4, Threads = 1, MaxSteps = 1, ClipNorm = 0.5f };
        using CliHarness.TempDirectory temp = CliHarness.TempDir();
        string directory = temp["run"];
        TrainIntoNewRun(directory, options, train);
        JsonObject config = RunDirectory.ReadConfig(directory);
        var saved = (JsonObject)JsonNode.Parse(SafeTensors.Read(Path.Combine(directory, RunDirectory.CheckpointFileName)).Metadata["trainer.options"])!;

        foreach (var (key, value) in saved)
            Assert.True(JsonNode.DeepEquals(value, config[key]), key);
        Assert.Equal("custom", config["sequence"]!.GetValue<string>());
        Assert.Equal(0.5f, TrainingOptions.FromJson(config, "config.json").ClipNorm);
    }

    /// <summary>A new run folder at <paramref name="directory"/> holding a run of <paramref name="options"/> trained to its end and saved.</summary>
    private static void TrainIntoNewRun(string directory, TrainingOptions options, ISequenceSource train)
    {
        using RunDirectory run = RunDirectory.Create(directory, overwrite: false);
        using var trainer = new Trainer(options, train);
        run.Begin(trainer, "custom", dataDirectory: null, initialWeights: null, otherFiles: []);
        trainer.Fit();
        run.SaveProgress(trainer);
    }
}
