using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class TrainerTests
{
    private static readonly ImageSet Train = SyntheticDigits.Create(200, seed: 1);
    private static readonly ImageSet Test = SyntheticDigits.Create(64, seed: 2);

    private static TrainingOptions Small(int threads) => Recipe.Best.Options with
    {
        Epochs = 3, Hidden = 12, Threads = threads, ClipNorm = 1f, WeightDecay = 0.01f,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SameSeedAndDataGiveBitIdenticalParameters(int threads)
    {
        float[] first = TrainedParameters(Small(threads) with { MaxSteps = 9 });
        float[] second = TrainedParameters(Small(threads) with { MaxSteps = 9 });
        Assert.Equal(first, second);
    }

    [Fact]
    public void ThreadCountChangesOnlyRoundingOfTheSameComputation()
    {
        float[] one = TrainedParameters(Small(1) with { MaxSteps = 3 });
        float[] two = TrainedParameters(Small(2) with { MaxSteps = 3 });
        for (int k = 0; k < one.Length; k++)
            Assert.True(MathF.Abs(one[k] - two[k]) < 1e-4f, $"parameter {k}: {one[k]} vs {two[k]}");
    }

    [Theory]
    [InlineData(5)]   // mid-epoch
    [InlineData(7)]   // exactly at the epoch boundary (7 batches of 32 in 200 images)
    public void ResumeContinuesExactlyWhereTheRunStopped(long stopAfter)
    {
        TrainingOptions options = Small(2) with { MaxSteps = 17 };
        float[] uninterrupted = TrainedParameters(options);

        string directory = Directory.CreateTempSubdirectory("smnist-resume-").FullName;
        try
        {
            using (var first = new Trainer(options with { MaxSteps = stopAfter }, Train, Test))
            {
                first.Fit();
                Assert.Equal(stopAfter, first.Step);
                first.SaveCheckpoint(directory);
            }
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test, changes: new ResumeChanges(MaxSteps: 17));
            Assert.Equal(stopAfter, resumed.Step);
            resumed.Fit();
            Assert.Equal(17, resumed.Step);
            Assert.Equal(uninterrupted, resumed.Model.Parameters);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void CheckpointsWithinEpochsResumeExactly()
    {
        TrainingOptions options = Small(2) with { MaxSteps = 17 };
        float[] uninterrupted = TrainedParameters(options);

        string directory = Directory.CreateTempSubdirectory("smnist-checkpoint-").FullName;
        try
        {
            var due = new List<long>();
            using (var first = new Trainer(options, Train, Test) { CheckpointInterval = TimeSpan.Zero })
            {
                // Keep the checkpoint of step 9, the third batch of the second epoch (7 batches per epoch).
                first.CheckpointDue += () =>
                {
                    due.Add(first.Step);
                    if (first.Step == 9)
                        first.SaveCheckpoint(directory);
                };
                first.Fit();
            }
            // Every step but an epoch's last (its end saves anyway) and the run's last.
            Assert.Equal([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16], due);
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test, changes: new ResumeChanges(MaxSteps: 17));
            Assert.Equal(9, resumed.Step);
            resumed.Fit();
            Assert.Equal(uninterrupted, resumed.Model.Parameters);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void CancellationStopsAfterTheCurrentStep()
    {
        using var cancel = new CancellationTokenSource();
        using var trainer = new Trainer(Small(1), Train, Test);
        trainer.StepCompleted += step => { if (step.Step == 4) cancel.Cancel(); };
        TrainingResult result = trainer.Fit(cancel.Token);
        Assert.False(result.Completed);
        Assert.Equal(4, trainer.Step);
    }

    [Fact]
    public void LearnsTheSyntheticDigitsAndReportsEachEpoch()
    {
        using var trainer = new Trainer(Small(2) with { Epochs = 4, Hidden = 24, LearningRate = 1e-2f }, SyntheticDigits.Create(640, seed: 4), Test);
        var epochs = new List<EpochReport>();
        trainer.EpochCompleted += epochs.Add;
        TrainingResult result = trainer.Fit();
        Assert.True(result.Completed);
        Assert.Equal([1, 2, 3, 4], epochs.Select(e => e.Epoch));
        Assert.True(result.Test!.Accuracy > 0.6, $"accuracy {result.Test.Accuracy}");
        Assert.Equal(result.Test.Accuracy, epochs[^1].TestAccuracy);
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss);

        EvaluationResult again = Evaluator.Evaluate(trainer.Model, trainer.Sequence, Test, threads: 1);
        Assert.Equal(result.Test.Accuracy, again.Accuracy);
        Assert.Equal(Test.Count, again.Confusion.Cast<int>().Sum());
    }

    [Fact]
    public void InitialWeightsMustFitTheOptions()
    {
        var other = new LoadedModel(Smnist.Nn.SequenceClassifier<float>.Initialize(new Smnist.Nn.ModelConfig(28, 7), 1), SequenceLayout.Create(SequenceView.Rows));
        var error = Assert.Throws<SmnistException>(() => new Trainer(Small(1), Train, Test, other));
        Assert.Contains("initial weights", error.Message);
    }

    [Fact]
    public void ADivergingRunStopsBeforeTheBadUpdate()
    {
        using var trainer = new Trainer(Small(1), Train, Test);
        trainer.Model.Parameters[0] = float.PositiveInfinity;  // as if training had blown up
        float[] before = (float[])trainer.Model.Parameters.Clone();

        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Fit());

        Assert.Equal(1, error.Step);
        Assert.Equal(0, trainer.Step);
        Assert.Equal(before, trainer.Model.Parameters);
    }

    [Fact]
    public void TheResolvedThreadCountIsPartOfTheCheckpoint()
    {
        string directory = Directory.CreateTempSubdirectory("smnist-threads-").FullName;
        try
        {
            using (var first = new Trainer(Small(0) with { MaxSteps = 2 }, Train, Test))
            {
                Assert.Equal(Environment.ProcessorCount, first.Options.Threads);
                first.Fit();
                first.SaveCheckpoint(directory);
            }
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test);
            Assert.Equal(Environment.ProcessorCount, resumed.Options.Threads);
            using var overridden = Trainer.Resume(ResumableRun.Read(directory), Train, Test, changes: new ResumeChanges(Threads: 3));
            Assert.Equal(3, overridden.Options.Threads);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void OptionsRecordedBeforeTheGateOptionsReadAsTheConstantInitAndThePlainLstm()
    {
        JsonObject recorded = (Small(2) with { GateInit = GateInit.Uniform, RefineGate = true }).ToJson();
        Assert.Equal("uniform", recorded["gate_init"]!.GetValue<string>());
        Assert.True(recorded["refine_gate"]!.GetValue<bool>());
        recorded.Remove("gate_init");
        recorded.Remove("refine_gate");

        TrainingOptions read = TrainingOptions.FromJson(recorded, "config.json");
        Assert.Equal(GateInit.Constant, read.GateInit);
        Assert.False(read.RefineGate);
    }

    [Fact]
    public void TheCheckpointHoldsTheOptionsInConfigJsonsFormAndThePositionOnlyAsAdamsStep()
    {
        string directory = Directory.CreateTempSubdirectory("smnist-options-").FullName;
        try
        {
            TrainingOptions options = Small(2) with
            {
                MaxSteps = 9, ForgetBias = null, InputBias = -2.5f, LearningRate = 1.7e-3f, View = SequenceView.Permuted, Seed = 12345678901234567890,
                GateInit = GateInit.Chrono, RefineGate = true,
            };
            using (var first = new Trainer(options, Train, Test))
            {
                first.Fit();
                first.SaveCheckpoint(directory);
            }
            IReadOnlyDictionary<string, string> metadata = SafeTensors.Read(Path.Combine(directory, RunDirectory.CheckpointFileName)).Metadata;
            var saved = (JsonObject)JsonNode.Parse(metadata["trainer.options"])!;

            Assert.True(JsonNode.DeepEquals(options.ToJson(), saved));
            Assert.Equal(options, TrainingOptions.FromJson(saved, "test"));
            Assert.Equal("9", metadata["adam.step"]);
            Assert.DoesNotContain(metadata.Keys, key => key is "trainer.epoch" or "trainer.batch" or "trainer.epoch_loss_count");
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test, changes: new ResumeChanges(MaxSteps: 9));
            Assert.Equal(options, resumed.Options);
            Assert.Single(resumed.History);    // 9 steps: one epoch of 7 and 2 batches
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("adam.step", "-1")]         // not a count
    [InlineData("adam.step", "9")]          // epoch 2, batch 2 of 7 by the step, but no finished epoch saved beside it
    [InlineData("adam.step", "22")]         // past the run's 3 epochs of 7 batches
    [InlineData("trainer.options", "{\"epochs\":3}")]
    [InlineData("trainer.history", "[{\"Epoch\":1,\"TrainLoss\":1,\"TestAccuracy\":0.5,\"TestLoss\":1,\"Seconds\":1}]")]
    public void ASavedStateThatDisagreesWithItselfIsRefused(string key, string value)
    {
        string directory = Directory.CreateTempSubdirectory("smnist-position-").FullName;
        try
        {
            using (var first = new Trainer(Small(1) with { MaxSteps = 5 }, Train, Test))
            {
                first.Fit();
                first.SaveCheckpoint(directory);
            }
            string path = Path.Combine(directory, RunDirectory.CheckpointFileName);
            SafeTensorsFile file = SafeTensors.Read(path);
            var metadata = new Dictionary<string, string>(file.Metadata) { [key] = value };
            SafeTensors.Write(path, file.Tensors, metadata);

            var error = Assert.Throws<SmnistException>(() => Trainer.Resume(ResumableRun.Read(directory), Train, Test));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AConfigurationThatCannotFitInMemoryIsRefusedWithTheFigures()
    {
        // 16 layers of 4096 units: 2.1 billion parameters, each with Adam's two moments and a gradient per worker.
        var options = Small(64) with { Hidden = 4096, Layers = 16 };
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SmnistException>(() => new Trainer(options, Train, Test));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Matches(@"would need [\d.]+ GiB of memory; this machine has [\d.]+ GiB available", error.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
    }

    private static float[] TrainedParameters(TrainingOptions options)
    {
        using var trainer = new Trainer(options, Train, Test);
        trainer.Fit();
        return trainer.Model.Parameters;
    }
}
