using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>
/// The options a user gave explicitly (null: not given), laid over a <see cref="Recipe"/> by <see cref="Over"/>:
/// what <c>smnist train</c> does with its command line. A given value wins; the sizes of initial weights come
/// next (and their view, unless the recipe names one); the recipe fills in the rest.
/// </summary>
public sealed record TrainingOverrides
{
    /// <summary><see cref="TrainingOptions.Epochs"/>.</summary>
    public int? Epochs { get; init; }
    /// <summary><see cref="TrainingOptions.BatchSize"/>.</summary>
    public int? BatchSize { get; init; }
    /// <summary><see cref="TrainingOptions.Hidden"/>.</summary>
    public int? Hidden { get; init; }
    /// <summary><see cref="TrainingOptions.Layers"/>.</summary>
    public int? Layers { get; init; }
    /// <summary><see cref="TrainingOptions.LearningRate"/>.</summary>
    public float? LearningRate { get; init; }
    /// <summary><see cref="TrainingOptions.Schedule"/>.</summary>
    public LearningRateSchedule? Schedule { get; init; }
    /// <summary><see cref="TrainingOptions.ForgetBias"/> (given: a value; a recipe's "none" cannot be given back).</summary>
    public float? ForgetBias { get; init; }
    /// <summary><see cref="TrainingOptions.InputBias"/>.</summary>
    public float? InputBias { get; init; }
    /// <summary><see cref="TrainingOptions.GateInit"/>.</summary>
    public GateInit? GateInit { get; init; }
    /// <summary><see cref="TrainingOptions.RefineGate"/>.</summary>
    public bool? RefineGate { get; init; }
    /// <summary><see cref="TrainingOptions.ClipNorm"/>.</summary>
    public float? ClipNorm { get; init; }
    /// <summary><see cref="TrainingOptions.WeightDecay"/>.</summary>
    public float? WeightDecay { get; init; }
    /// <summary><see cref="TrainingOptions.Seed"/>.</summary>
    public ulong? Seed { get; init; }
    /// <summary><see cref="TrainingOptions.Threads"/>.</summary>
    public int? Threads { get; init; }
    /// <summary><see cref="TrainingOptions.Shuffle"/>.</summary>
    public bool? Shuffle { get; init; }
    /// <summary><see cref="TrainingOptions.MaxSteps"/>.</summary>
    public long? MaxSteps { get; init; }
    /// <summary><see cref="TrainingOptions.Validation"/>.</summary>
    public int? Validation { get; init; }
    /// <summary><see cref="TrainingOptions.Patience"/>.</summary>
    public int? Patience { get; init; }

    /// <summary>Images only: <see cref="TrainingOptions.Augment"/>.</summary>
    public bool? Augment { get; init; }
    /// <summary>Images only: <see cref="TrainingOptions.AugmentTest"/>.</summary>
    public bool? AugmentTest { get; init; }
    /// <summary>Images only: <see cref="TrainingOptions.LimitTrain"/>.</summary>
    public int? LimitTrain { get; init; }
    /// <summary>Images only: <see cref="TrainingOptions.LimitTest"/>.</summary>
    public int? LimitTest { get; init; }
    /// <summary>Images only: <see cref="TrainingOptions.View"/>.</summary>
    public SequenceView? View { get; init; }
    /// <summary>Images only: <see cref="TrainingOptions.Dataset"/>.</summary>
    public DatasetKind? Dataset { get; init; }

    /// <summary>
    /// The options of a run on images: these overrides over <paramref name="recipe"/>, with the sizes (and view,
    /// unless the recipe names one) of <paramref name="initialWeights"/> where not given. Validated.
    /// </summary>
    public TrainingOptions Over(Recipe recipe, LoadedModel? initialWeights = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        TrainingOptions baseline = recipe.Options;
        TrainingOptions options = Common(baseline, initialWeights) with
        {
            Augment = Augment ?? baseline.Augment,
            AugmentTest = AugmentTest ?? baseline.AugmentTest,
            LimitTrain = LimitTrain ?? baseline.LimitTrain,
            LimitTest = LimitTest ?? baseline.LimitTest,
            // The pixel recipes name their view; the others leave it to the initial weights'.
            View = View ?? (recipe.NamesView ? null : initialWeights?.Sequence.View) ?? baseline.View,
            Dataset = Dataset ?? baseline.Dataset,
        };
        options.Validate();
        return options;
    }

    /// <summary>
    /// The options of a run on a user's own sequences (<see cref="Trainer(TrainingOptions, ISequenceSource, ISequenceSource?, LoadedModel?, ISequenceSource?)"/>):
    /// as <see cref="Over"/>, but the recipe's image settings do not apply (no augmentation, no limits), and an
    /// image setting given here is refused in one line rather than silently ignored.
    /// </summary>
    public TrainingOptions OverForSequences(Recipe recipe, LoadedModel? initialWeights = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        string[] given = ImageSettingsGiven();
        if (given.Length > 0)
            throw new SmnistException($"{string.Join(", ", given)} only apply to images, not to your own sequences");
        TrainingOptions options = Common(recipe.Options, initialWeights) with
        {
            Augment = false,
            AugmentTest = false,
            LimitTrain = null,
            LimitTest = null,
            View = SequenceView.Custom,
            Dataset = default,
        };
        options.Validate();
        return options;
    }

    /// <summary>The image settings given, named as the command line spells them.</summary>
    public string[] ImageSettingsGiven() =>
    [
        .. Augment is null ? [] : new[] { Augment.Value ? "--augment" : "--no-augment" },
        .. AugmentTest is null ? [] : new[] { "--augment-test" },
        .. LimitTrain is null ? [] : new[] { "--limit-train" },
        .. LimitTest is null ? [] : new[] { "--limit-test" },
        .. View is null ? [] : new[] { "--sequence" },
        .. Dataset is null ? [] : new[] { "--dataset" },
    ];

    private TrainingOptions Common(TrainingOptions baseline, LoadedModel? initialWeights) => baseline with
    {
        Epochs = Epochs ?? baseline.Epochs,
        BatchSize = BatchSize ?? baseline.BatchSize,
        Hidden = Hidden ?? initialWeights?.Model.Config.HiddenSize ?? baseline.Hidden,
        Layers = Layers ?? initialWeights?.Model.Config.Layers ?? baseline.Layers,
        LearningRate = LearningRate ?? baseline.LearningRate,
        Schedule = Schedule ?? baseline.Schedule,
        ForgetBias = ForgetBias ?? baseline.ForgetBias,
        InputBias = InputBias ?? baseline.InputBias,
        GateInit = GateInit ?? baseline.GateInit,
        RefineGate = RefineGate ?? initialWeights?.Model.Config.RefineGate ?? baseline.RefineGate,
        ClipNorm = ClipNorm ?? baseline.ClipNorm,
        WeightDecay = WeightDecay ?? baseline.WeightDecay,
        Seed = Seed ?? baseline.Seed,
        Threads = Threads ?? baseline.Threads,
        Shuffle = Shuffle ?? baseline.Shuffle,
        MaxSteps = MaxSteps ?? baseline.MaxSteps,
        Validation = Validation ?? baseline.Validation,
        Patience = Patience ?? baseline.Patience,
    };
}
