using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>
/// Everything that decides a training run. The defaults are the best recipe (<see cref="Recipe.Best"/>);
/// <see cref="Recipe.Notebook"/> is the notebook's. Any value set explicitly overrides the recipe's.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 15;
    /// <summary>Examples per training step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Units per LSTM layer.</summary>
    public int Hidden { get; init; } = 128;
    /// <summary>Stacked LSTM layers.</summary>
    public int Layers { get; init; } = 1;
    /// <summary>Adam's base learning rate.</summary>
    public float LearningRate { get; init; } = 2e-3f;
    /// <summary>How the learning rate changes over the run.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Initial forget-gate bias; null keeps nn.Linear's uniform initialisation.</summary>
    public float? ForgetBias { get; init; } = 1f;

    /// <summary>
    /// Initial input-gate bias; null keeps nn.Linear's uniform initialisation. A negative one with a large
    /// <see cref="ForgetBias"/> starts the cells remembering and writing little, so a signal from hundreds of
    /// steps back still reaches the last step (what the 784-step views need).
    /// </summary>
    public float? InputBias { get; init; }

    /// <summary>
    /// How the forget-gate biases start: <see cref="GateInit.Constant"/> keeps <see cref="ForgetBias"/> and
    /// <see cref="InputBias"/>; chrono and uniform draw them in their place (chrono's T_max: the longest training sequence).
    /// </summary>
    public GateInit GateInit { get; init; }

    /// <summary>Every layer a UR-LSTM cell: a refine gate in the input gate's place (<see cref="ModelConfig.RefineGate"/>).</summary>
    public bool RefineGate { get; init; }

    /// <summary>Global gradient-norm bound; null for no clipping.</summary>
    public float? ClipNorm { get; init; }

    /// <summary>Decoupled (AdamW) weight decay; 0 for plain Adam.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Seeds the initial weights, the shuffles, the augmentation and the pixel permutation.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Worker threads for the training step; 0 for one per processor.</summary>
    public int Threads { get; init; }

    /// <summary>Images only: warp each training image with a random rotation, shift and scale, as the notebook does.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Evaluate on augmented test images, as the notebook does; off gives the clean test set papers report.</summary>
    public bool AugmentTest { get; init; }

    /// <summary>Shuffle the training examples every epoch (seeded).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Stop after this many training steps in all; null to run every epoch.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Images only: train on the first this many images; null for all.</summary>
    public int? LimitTrain { get; init; }
    /// <summary>Images only: test on the first this many images; null for all.</summary>
    public int? LimitTest { get; init; }
    /// <summary>Images only: how an image is read over time.</summary>
    public SequenceView View { get; init; } = SequenceView.Rows;
    /// <summary>Images only: which image set (the command line loads it; recorded with the run).</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Mnist;

    /// <summary>
    /// Hold out this many training examples, drawn by <see cref="Seed"/>, as the validation set: the per-epoch
    /// figures are then on it, the best weights (by validation loss) are kept and restored at the end, and the test
    /// set is read once, at the end. Null for the notebook's protocol: the per-epoch figures are on the test set.
    /// </summary>
    public int? Validation { get; init; }

    /// <summary>
    /// With a validation set: stop once this many epochs in a row have not lowered the best validation loss; null
    /// to run every epoch.
    /// </summary>
    public int? Patience { get; init; }

    /// <summary>Worker threads actually used: <see cref="Threads"/>, or one per processor.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Throws <see cref="SmnistException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        Require(Epochs, TrainingLimits.Epochs, "epochs");
        Require(BatchSize, TrainingLimits.BatchSize, "batch size");
        Require(Hidden, TrainingLimits.Hidden, "hidden size");
        Require(Layers, TrainingLimits.Layers, "layers");
        Require(LearningRate, TrainingLimits.LearningRate, "learning rate");
        Require(ClipNorm, TrainingLimits.ClipNorm, "gradient clipping norm");
        Require(ForgetBias, TrainingLimits.ForgetBias, "forget bias");
        Require(InputBias, TrainingLimits.InputBias, "input bias");
        Require(WeightDecay, TrainingLimits.WeightDecay, "weight decay");
        Require(Threads, TrainingLimits.Threads, "threads (0: one per processor)");
        Require(MaxSteps, TrainingLimits.MaxSteps, "max steps");
        Require(LimitTrain, TrainingLimits.Limit, "limit-train");
        Require(LimitTest, TrainingLimits.Limit, "limit-test");
        Require(Validation, TrainingLimits.Validation, "validation");
        Require(Patience, TrainingLimits.Patience, "patience");
    }

    /// <summary>
    /// The options as a run records them, in config.json's form (snake_case keys, names for the enums, resolved
    /// threads): the one serialisation that config.json and the run checkpoint share.
    /// </summary>
    internal JsonObject ToJson() => new()
    {
        ["epochs"] = Epochs,
        ["batch_size"] = BatchSize,
        ["hidden"] = Hidden,
        ["layers"] = Layers,
        ["lr"] = LearningRate,
        ["schedule"] = Schedule.ToString().ToLowerInvariant(),
        ["forget_bias"] = ForgetBias,
        ["input_bias"] = InputBias,
        ["gate_init"] = GateInitName(GateInit),
        ["refine_gate"] = RefineGate,
        ["clip"] = ClipNorm,
        ["weight_decay"] = WeightDecay,
        ["seed"] = Seed,
        ["threads"] = EffectiveThreads,
        ["augment"] = Augment,
        ["augment_test"] = AugmentTest,
        ["shuffle"] = Shuffle,
        ["max_steps"] = MaxSteps,
        ["limit_train"] = LimitTrain,
        ["limit_test"] = LimitTest,
        ["sequence"] = SequenceLayout.NameOf(View),
        ["dataset"] = DatasetKindNames.NameOf(Dataset),
        ["validation"] = Validation,
        ["patience"] = Patience,
    };

    /// <summary>Reads back what <see cref="ToJson"/> wrote (other keys are ignored); a defect is a one-line error naming <paramref name="where"/>.</summary>
    internal static TrainingOptions FromJson(JsonObject json, string where) => new()
    {
        Epochs = Value<int>(json, where, "epochs"),
        BatchSize = Value<int>(json, where, "batch_size"),
        Hidden = Value<int>(json, where, "hidden"),
        Layers = Value<int>(json, where, "layers"),
        LearningRate = Value<float>(json, where, "lr"),
        Schedule = Name(json, where, "schedule", Enum.GetValues<LearningRateSchedule>(), s => s.ToString().ToLowerInvariant()),
        ForgetBias = Optional<float>(json, where, "forget_bias"),
        InputBias = Optional<float>(json, where, "input_bias"),
        // Absent from runs recorded before the gate options existed, which had neither.
        GateInit = json.ContainsKey("gate_init") ? Name(json, where, "gate_init", Enum.GetValues<GateInit>(), GateInitName) : GateInit.Constant,
        RefineGate = json.ContainsKey("refine_gate") && Value<bool>(json, where, "refine_gate"),
        ClipNorm = Optional<float>(json, where, "clip"),
        WeightDecay = Value<float>(json, where, "weight_decay"),
        Seed = Value<ulong>(json, where, "seed"),
        Threads = Value<int>(json, where, "threads"),
        Augment = Value<bool>(json, where, "augment"),
        AugmentTest = Value<bool>(json, where, "augment_test"),
        Shuffle = Value<bool>(json, where, "shuffle"),
        MaxSteps = Optional<long>(json, where, "max_steps"),
        LimitTrain = Optional<int>(json, where, "limit_train"),
        LimitTest = Optional<int>(json, where, "limit_test"),
        View = Name(json, where, "sequence", Enum.GetValues<SequenceView>(), SequenceLayout.NameOf),
        Dataset = Name(json, where, "dataset", Enum.GetValues<DatasetKind>(), DatasetKindNames.NameOf),
        // Absent from runs recorded before validation existed, which had none.
        Validation = json.ContainsKey("validation") ? Optional<int>(json, where, "validation") : null,
        Patience = json.ContainsKey("patience") ? Optional<int>(json, where, "patience") : null,
    };

    /// <summary>The name of a gate initialisation as the command line and config.json spell it: constant, chrono, uniform.</summary>
    public static string GateInitName(GateInit gateInit) => gateInit.ToString().ToLowerInvariant();

    private static T Value<T>(JsonObject json, string where, string key) where T : struct =>
        Optional<T>(json, where, key) ?? throw new SmnistException($"{where}: '{key}' is missing");

    private static T? Optional<T>(JsonObject json, string where, string key) where T : struct
    {
        if (!json.TryGetPropertyValue(key, out JsonNode? node))
            throw new SmnistException($"{where}: '{key}' is missing");
        try
        {
            return node?.GetValue<T>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException or JsonException)
        {
            throw new SmnistException($"{where}: '{key}' is not a {typeof(T).Name} ({node!.ToJsonString()})");
        }
    }

    private static T Name<T>(JsonObject json, string where, string key, T[] values, Func<T, string> nameOf) where T : struct, Enum
    {
        string? name = json[key] is JsonValue value && value.TryGetValue(out string? text) ? text : null;
        foreach (T candidate in values)
        {
            if (nameOf(candidate) == name)
                return candidate;
        }
        throw new SmnistException($"{where}: '{key}' is not one of {string.Join(", ", values.Select(nameOf))}");
    }

    /// <summary>An optional value: unset is always allowed.</summary>
    private static void Require<T>(T? value, OptionRange<T> range, string name) where T : struct, INumber<T>
    {
        if (value is T set)
            Require(set, range, name);
    }

    private static void Require<T>(T value, OptionRange<T> range, string name) where T : struct, INumber<T>
    {
        if (!range.Contains(value))
            throw new SmnistException(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {range.Min} and {range.Max}, not {value}"));
    }
}
