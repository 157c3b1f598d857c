using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Tests.Training;

/// <summary>Validation held out of the training set, patience, and the best epoch's weights kept and restored.</summary>
[Trait("Category", "unit")]
public class ValidationTests
{
    private static readonly ImageSet Train = SyntheticDigits.Create(160, seed: 1);
    private static readonly ImageSet Test = SyntheticDigits.Create(48, seed: 2);

    // A learning rate far too high for the task, so the validation loss soon stops improving.
    private static TrainingOptions Unsteady => Recipe.Best.Options with
    {
        Epochs = 40, Hidden = 8, Threads = 1, BatchSize = 16, LearningRate = 0.05f, Schedule = LearningRateSchedule.Constant, Augment = false,
        Validation = 40, Patience = 2,
    };

    [Fact]
    public void APatientRunStopsAndEndsWithTheBestEpochsWeights()
    {
        using var trainer = new Trainer(Unsteady, Train, Test);
        var weightsAfter = new List<float[]>();
        trainer.EpochCompleted += _ => weightsAfter.Add(trainer.Model.Parameters.ToArray());

        TrainingResult result = trainer.Fit();

        Assert.True(result.Completed);
        Assert.True(trainer.StoppedEarly);
        Assert.True(trainer.History.Count < Unsteady.Epochs, $"ran all {trainer.History.Count} epochs");
        int best = trainer.BestEpoch!.Value;
        double[] losses = trainer.History.Select(e => e.ValidationLoss).ToArray();
        Assert.Equal(Array.IndexOf(losses, losses.Min()) + 1, best);
        // Stopped as soon as Patience epochs in a row did no better.
        Assert.Equal(best + Unsteady.Patience, trainer.History.Count);
        Assert.Equal(weightsAfter[best - 1], trainer.Model.Parameters);
        Assert.NotEqual(weightsAfter[^1], trainer.Model.Parameters);
        Assert.Equal(trainer.History[best - 1].ValidationLoss, trainer.EvaluateValidation()!.Loss);
        // The test set is read once, at the end, on the restored weights.
        Assert.All(trainer.History, epoch => Assert.True(double.IsNaN(epoch.TestAccuracy)));
        Assert.Equal(trainer.EvaluateTest()!.Loss, result.Test!.Loss);
    }

    [Fact]
    public void TheHeldOutExamplesAreDrawnBySeedAndLeaveTheRestToTrainOn()
    {
        using var trainer = new Trainer(Unsteady with { MaxSteps = 1 }, Train, Test);
        Assert.Equal(120, trainer.TrainCount);
        Assert.Equal(40, trainer.ValidationCount);
        Assert.Equal(48, trainer.TestCount);

        var error = Assert.Throws<SmnistException>(() => new Trainer(Unsteady with { Validation = 160 }, Train, Test));
        Assert.Contains("at least one must be left to train on", error.Message);
    }

    [Fact]
    public void PatienceWithoutAValidationSetIsRefused()
    {
        var error = Assert.Throws<SmnistException>(() => new Trainer(Unsteady with { Validation = null }, Train, Test));
        Assert.Equal("patience counts epochs without a better validation loss; it needs a validation set", error.Message);
    }

    [Fact]
    public void ACancelledFitCanRestoreTheBestWeights()
    {
        using var cancel = new CancellationTokenSource();
        using var trainer = new Trainer(Unsteady with { Patience = null }, Train, Test);
        var weightsAfter = new List<float[]>();
        trainer.EpochCompleted += epoch =>
        {
            weightsAfter.Add(trainer.Model.Parameters.ToArray());
            if (epoch.Epoch == 6)
                cancel.Cancel();
        };

        TrainingResult result = trainer.Fit(cancel.Token);

        Assert.False(result.Completed);
        Assert.True(trainer.RestoreBestWeights());
        Assert.Equal(weightsAfter[trainer.BestEpoch!.Value - 1], trainer.Model.Parameters);
    }

    [Theory]
    [InlineData(9)]   // inside the second epoch
    [InlineData(16)]  // at the end of the second (8 batches of 16 in 120 images)
    public void AValidatedRunResumesExactlyWithItsBestWeights(long stopAfter)
    {
        float[] uninterrupted;
        int bestEpoch;
        using (var whole = new Trainer(Unsteady, Train, Test))
        {
            whole.Fit();
            uninterrupted = whole.Model.Parameters.ToArray();
            bestEpoch = whole.BestEpoch!.Value;
        }
        string directory = Directory.CreateTempSubdirectory("smnist-validation-").FullName;
        try
        {
            using (var first = new Trainer(Unsteady with { MaxSteps = stopAfter }, Train, Test))
            {
                first.Fit();
                first.SaveCheckpoint(directory);
            }
            using var resumed = Trainer.Resume(ResumableRun.Read(directory), Train, Test);
            resumed.Fit();
            Assert.Equal(bestEpoch, resumed.BestEpoch);
            Assert.Equal(uninterrupted, resumed.Model.Parameters);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AValidationSourceCanBeGivenInsteadOfHeldOut()
    {
        var train = new MnistSource(Train, SequenceLayout.Create(SequenceView.Rows));
        var validation = new MnistSource(Test, SequenceLayout.Create(SequenceView.Rows));
        TrainingOptions options = new TrainingOverrides { Epochs = 2, Hidden = 6, Threads = 1 }.OverForSequences(Recipe.Best);
        using var trainer = new Trainer(options, train, test: null, validation: validation);

        trainer.Fit();

        Assert.Equal(160, trainer.TrainCount);
        Assert.Equal(48, trainer.ValidationCount);
        Assert.All(trainer.History, epoch => Assert.False(double.IsNaN(epoch.ValidationLoss)));
        Assert.Throws<SmnistException>(() => new Trainer(options with { Validation = 10 }, train, test: null, validation: validation));
    }

    [Fact]
    public void InitialWeightsOfAnotherClassCountAreNamedAsSuch()
    {
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        var fiveClasses = new LoadedModel(SequenceClassifier<float>.Initialize(new ModelConfig(28, 8, 1, Classes: 5), seed: 1), rows);

        var error = Assert.Throws<SmnistException>(() => new Trainer(Unsteady with { Hidden = 8, Validation = null, Patience = null }, Train, Test, fiveClasses));

        Assert.Equal("the initial weights are for 1 layer(s) of 8 units on 28 inputs and 5 classes, the options ask for 1 layer(s) of 8 units on 28 inputs and 10 classes", error.Message);
    }
}

/// <summary>The options a user gives, over a recipe: for images, and for a user's own sequences.</summary>
[Trait("Category", "unit")]
public class TrainingOverridesTests
{
    [Fact]
    public void GivenValuesWinThenTheInitialWeightsThenTheRecipe()
    {
        var init = new LoadedModel(SequenceClassifier<float>.Initialize(new ModelConfig(1, 20, 2), seed: 1), SequenceLayout.Create(SequenceView.Pixels));

        TrainingOptions options = new TrainingOverrides { Epochs = 3, Layers = 1 }.Over(Recipe.Best, init);

        Assert.Equal(Recipe.Best.Options with { Epochs = 3, Hidden = 20, Layers = 1, View = SequenceView.Pixels }, options);
        // A recipe that names its view keeps it over the weights'.
        Assert.Equal(SequenceView.Permuted, new TrainingOverrides().Over(Recipe.Permuted, init).View);
        Assert.Equal(Recipe.Notebook.Options, new TrainingOverrides().Over(Recipe.Notebook));
    }

    [Fact]
    public void ARecipesImageDefaultsDoNotApplyToYourOwnSequences()
    {
        foreach (Recipe recipe in Recipe.All)
        {
            TrainingOptions options = new TrainingOverrides { Hidden = 6, Epochs = 1, Threads = 1 }.OverForSequences(recipe);
            Assert.False(options.Augment);
            Assert.False(options.AugmentTest);
            Assert.Null(options.LimitTrain);
            Assert.Equal(SequenceView.Custom, options.View);
            Assert.Equal(recipe.Options.LearningRate, options.LearningRate);

            var train = new InMemorySequenceSource(new float[12 * 5 * 3], new int[12], steps: 5, features: 3, classes: 2);
            using var trainer = new Trainer(options, train);
            Assert.True(trainer.Fit().Completed);
        }
    }

    [Fact]
    public void AnImageSettingGivenForYourOwnSequencesIsRefusedInOneLine()
    {
        var overrides = new TrainingOverrides { Augment = false, View = SequenceView.Pixels, Epochs = 2 };

        var error = Assert.Throws<SmnistException>(() => overrides.OverForSequences(Recipe.Best));

        Assert.Equal("--no-augment, --sequence only apply to images, not to your own sequences", error.Message);
        Assert.Empty(new TrainingOverrides { Epochs = 2, Validation = 3 }.ImageSettingsGiven());
    }
}
