using System.Globalization;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.IO;

/// <summary>A model read back from a checkpoint, with the sequence view it was trained on.</summary>
public sealed record LoadedModel(SequenceClassifier<float> Model, SequenceLayout Sequence);

/// <summary>
/// Model checkpoints in the safetensors format under the notebook module's parameter names (see
/// <see cref="ParameterLayout"/>), so a PyTorch user loads them straight into the notebook's layout, and a file of
/// just those tensors written from PyTorch loads here. The configuration and the sequence view go in
/// <c>__metadata__</c> so the file alone rebuilds the model. What a run resumes from is a <see cref="RunCheckpoint"/>.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>The model's file name in a run folder.</summary>
    public const string ModelFileName = "model.safetensors";

    /// <summary>
    /// The largest sum of magnitudes a row of gate weights or of readout weights, with its bias, may have in a loaded
    /// model: a quarter of float's range. Sigmoid and tanh keep every LSTM output v_t in [−1, 1] whatever their
    /// arguments, and the image views feed pixels in [0, 1], so every pre-activation and every logit is a dot product
    /// of such a row with values of magnitude at most 1: at most the row's sum in magnitude, and at most 1 % more
    /// with the rounding of up to 82,000 float additions (1 + 2⁻²⁴ each). So every pre-activation and logit stays below
    /// a third of float.MaxValue, no sum ever meets ±∞ (whose mix is NaN), the stable softmax is finite, and the loss,
    /// log Σ e^logits − logit ≤ 2 · max |logit| + ln K, is finite too. A custom model whose inputs exceed 1 in
    /// magnitude has the same guarantee for inputs in [−1, 1]; <see cref="Training.Predictor"/> refuses logits that still overflow.
    /// </summary>
    internal const double MaxRowMagnitude = float.MaxValue / 4.0;

    /// <summary>Metadata key: "true" when every layer has the refine gate (<see cref="ModelConfig.RefineGate"/>); absent for the plain LSTM.</summary>
    public const string RefineGateKey = "refine_gate";

    /// <summary>Metadata key: the training step the weights are from (absent in files not written by a run).</summary>
    public const string StepKey = "step";

    /// <summary>Writes the weights; <paramref name="step"/>, when given, records the training step they are from.</summary>
    public static void Save(string path, SequenceClassifier<float> model, SequenceLayout sequence, long? step = null)
    {
        Dictionary<string, string> metadata = Metadata(model, sequence);
        if (step is long at)
            metadata[StepKey] = Invariant(at);
        SafeTensors.Write(path, Slices(model.Layout, model.Parameters), metadata);
    }

    /// <summary>The metadata that rebuilds a model: its sizes and its sequence view.</summary>
    internal static Dictionary<string, string> Metadata(SequenceClassifier<float> model, SequenceLayout sequence)
    {
        ModelConfig config = model.Config;
        if (sequence.Features != config.InputSize)
            throw new ArgumentException($"the {sequence.Name} view feeds {sequence.Features} features, the model reads {config.InputSize}");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "smnist-lstm",
            ["input_size"] = Invariant(config.InputSize),
            ["hidden_size"] = Invariant(config.HiddenSize),
            ["layers"] = Invariant(config.Layers),
            ["classes"] = Invariant(config.Classes),
            ["sequence"] = sequence.Name,
            ["steps"] = Invariant(sequence.Steps),
        };
        if (sequence.Permutation is int[] permutation)
            metadata["permutation"] = string.Join(',', permutation);
        // Written only for the UR-LSTM, so a plain model's file stays as before.
        if (config.RefineGate)
            metadata[RefineGateKey] = "true";
        return metadata;
    }

    /// <summary>A model from flat <paramref name="weights"/> and the sizes and view in the metadata of <paramref name="file"/>.</summary>
    internal static LoadedModel FromFlatWeights(SafeTensorsFile file, SafeTensor weights)
    {
        ModelConfig config = ConfigFromMetadata(file);
        if (weights.Data.Length != config.ParameterCount)
            throw new SmnistException($"{file.Path}: tensor '{weights.Name}' holds {weights.Data.Length} values, the configuration needs {config.ParameterCount}");
        RequireFinite(file.Path, weights.Name, weights.Data);
        var model = new SequenceClassifier<float>(config, weights.Data);
        RequireFiniteOutputs(file.Path, model);
        return new LoadedModel(model, SequenceFromMetadata(file, config));
    }

    /// <summary>
    /// Reads a model file. Sizes are checked in 64-bit arithmetic and against the tensors in the file before the
    /// model is allocated, and a non-finite weight is refused naming its tensor.
    /// </summary>
    public static LoadedModel Load(string path) => Load(SafeTensors.Read(path));

    /// <summary>Loads a model from a seekable stream (such as an embedded resource) named <paramref name="name"/> in messages.</summary>
    public static LoadedModel Load(string name, Stream stream) => Load(SafeTensors.Read(name, stream));

    private static LoadedModel Load(SafeTensorsFile file)
    {
        ModelConfig config = file.Metadata.ContainsKey("hidden_size") ? ConfigFromMetadata(file) : ConfigFromShapes(file);
        // The layout is only a list of names and shapes; the weights are allocated once the file is known to hold them all.
        CheckTensors(file, new ParameterLayout(config));
        var model = new SequenceClassifier<float>(config);
        foreach (ParameterTensor slot in model.Layout.Tensors)
            file.Get(slot.Name).Data.CopyTo(model.Parameters, slot.Offset);
        RequireFiniteOutputs(file.Path, model);
        return new LoadedModel(model, SequenceFromMetadata(file, config));
    }

    /// <summary>NaN or infinity in a checkpoint poisons every later result; refused naming the tensor.</summary>
    internal static void RequireFinite(string path, string tensor, float[] values)
    {
        for (int k = 0; k < values.Length; k++)
        {
            if (!float.IsFinite(values[k]))
                throw new SmnistException($"{path}: tensor '{tensor}' holds a non-finite value ({values[k].ToString(CultureInfo.InvariantCulture)}) at index {k}");
        }
    }

    /// <summary>Every row of gate and readout weights within <see cref="MaxRowMagnitude"/>; otherwise refused naming the row.</summary>
    internal static void RequireFiniteOutputs(string path, SequenceClassifier<float> model)
    {
        ModelConfig config = model.Config;
        ParameterLayout layout = model.Layout;
        int n = config.HiddenSize;
        ReadOnlySpan<float> parameters = model.Parameters;
        for (int layer = 0; layer < config.Layers; layer++)
        {
            int columns = n + config.LayerInputSize(layer);
            ReadOnlySpan<float> weights = parameters.Slice(layout.GateWeightOffset(layer), 4 * n * columns); // (4n, n+d)
            ReadOnlySpan<float> biases = parameters.Slice(layout.GateBiasOffset(layer), 4 * n);              // (4n)
            for (int row = 0; row < 4 * n; row++)
                RequireBoundedRow(path, $"lstm.{layer}.{layout.Gates[row / n]}", row % n, weights.Slice(row * columns, columns), biases[row]);
        }
        ReadOnlySpan<float> readout = parameters.Slice(layout.ReadoutWeightOffset, config.Classes * n); // (K, n)
        for (int k = 0; k < config.Classes; k++)
            RequireBoundedRow(path, "readout", k, readout.Slice(k * n, n), parameters[layout.ReadoutBiasOffset + k]);
    }

    private static void RequireBoundedRow(string path, string module, int row, ReadOnlySpan<float> weights, float bias)
    {
        double magnitude = Math.Abs((double)bias);
        foreach (float w in weights)
            magnitude += Math.Abs((double)w);
        if (magnitude > MaxRowMagnitude)
        {
            throw new SmnistException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: weights too large for finite outputs: row {row} of '{module}.weight' with its bias sums to {magnitude:G3} in magnitude, above the {MaxRowMagnitude:G3} that keeps every logit finite"));
        }
    }

    private static List<SafeTensor> Slices(ParameterLayout layout, float[] parameters) =>
        layout.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList();

    /// <summary>Every tensor of the layout present with its shape and finite values, and no other.</summary>
    private static void CheckTensors(SafeTensorsFile file, ParameterLayout layout)
    {
        var expected = layout.Tensors.ToDictionary(t => t.Name);
        foreach (SafeTensor tensor in file.Tensors)
        {
            if (!expected.ContainsKey(tensor.Name))
                throw new SmnistException($"{file.Path}: unexpected tensor '{tensor.Name}' for a {layout.Config.Layers}-layer model");
        }
        foreach (ParameterTensor slot in layout.Tensors)
        {
            SafeTensor tensor = file.Get(slot.Name);
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new SmnistException($"{file.Path}: tensor '{slot.Name}' has shape [{string.Join(", ", tensor.Shape)}], the configuration needs [{string.Join(", ", slot.Shape)}]");
            RequireFinite(file.Path, slot.Name, tensor.Data);
        }
    }

    private static ModelConfig ConfigFromMetadata(SafeTensorsFile file)
    {
        bool refineGate = file.Metadata.GetValueOrDefault(RefineGateKey) switch
        {
            null or "false" => false,
            "true" => true,
            string other => throw new SmnistException($"{file.Path}: metadata '{RefineGateKey}' must be true or false, not '{other}'"),
        };
        var config = new ModelConfig(MetadataInt(file, "input_size"), MetadataInt(file, "hidden_size"), MetadataInt(file, "layers"), MetadataInt(file, "classes"))
        {
            RefineGate = refineGate,
        };
        return Validated(file, config);
    }

    /// <summary>Sizes read off the tensors of a file without metadata, such as a renamed PyTorch state_dict.</summary>
    private static ModelConfig ConfigFromShapes(SafeTensorsFile file)
    {
        int[] forget = file.Get("lstm.0.forget.weight").Shape;
        int[] readout = file.Get("readout.weight").Shape;
        if (forget.Length != 2 || readout.Length != 2 || forget[1] <= forget[0])
            throw new SmnistException($"{file.Path}: 'lstm.0.forget.weight' must be [n, n + d] and 'readout.weight' [classes, n]");
        int layers = 0;
        while (file.TryGet($"lstm.{layers}.forget.weight", out _))
            layers++;
        // A UR-LSTM's file names its second gate block "refine" (ParameterLayout.RefineGateNames).
        bool refineGate = file.TryGet($"lstm.0.{ParameterLayout.RefineGateNames[ParameterLayout.Refine]}.weight", out _);
        return Validated(file, new ModelConfig(forget[1] - forget[0], forget[0], layers, readout[0]) { RefineGate = refineGate });
    }

    private static ModelConfig Validated(SafeTensorsFile file, ModelConfig config)
    {
        try
        {
            config.Validate();
            return config;
        }
        catch (SmnistException e)
        {
            throw new SmnistException($"{file.Path}: {e.Message}");
        }
    }

    /// <summary>The view named in the metadata; without one, rows for 28 features and pixels for one.</summary>
    private static SequenceLayout SequenceFromMetadata(SafeTensorsFile file, ModelConfig config)
    {
        SequenceLayout sequence;
        try
        {
            if (file.Metadata.TryGetValue("sequence", out string? name))
            {
                SequenceView view = SequenceLayout.Parse(name);
                sequence = view switch
                {
                    SequenceView.Permuted => SequenceLayout.FromPermutation(ParsePermutation(file)),
                    SequenceView.Custom => SequenceLayout.Custom(MetadataInt(file, "steps") is int steps and >= 1 ? steps : throw new SmnistException("metadata 'steps' must be at least 1"), config.InputSize),
                    _ => SequenceLayout.Create(view),
                };
            }
            else
            {
                sequence = SequenceLayout.Create(config.InputSize == 1 ? SequenceView.Pixels : SequenceView.Rows);
            }
        }
        catch (SmnistException e)
        {
            throw new SmnistException($"{file.Path}: {e.Message}");
        }
        if (sequence.Features != config.InputSize)
            throw new SmnistException($"{file.Path}: the {sequence.Name} view feeds {sequence.Features} features per step but the model reads {config.InputSize}");
        return sequence;
    }

    private static int[] ParsePermutation(SafeTensorsFile file)
    {
        string text = file.Metadata.GetValueOrDefault("permutation")
            ?? throw new SmnistException("the permuted view needs its 'permutation' metadata");
        string[] parts = text.Split(',');
        var permutation = new int[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            if (!int.TryParse(parts[k], NumberStyles.None, CultureInfo.InvariantCulture, out permutation[k]))
                throw new SmnistException($"metadata 'permutation' entry {k} ('{parts[k]}') is not a pixel index");
        }
        return permutation;
    }

    private static int MetadataInt(SafeTensorsFile file, string key) =>
        int.TryParse(file.Metadata.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new SmnistException($"{file.Path}: metadata '{key}' is missing or not a whole number");

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
