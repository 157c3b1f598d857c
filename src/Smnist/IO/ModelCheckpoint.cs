using System.Globalization;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.IO;

/// <summary>A model read back from a checkpoint, with the sequence view it was trained on.</summary>
public sealed record LoadedModel(SequenceClassifier<float> Model, SequenceLayout Sequence);

/// <summary>An optimizer's saved state and the trainer state stored with it.</summary>
public sealed record OptimizerState(long Step, float[] FirstMoment, float[] SecondMoment, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Model checkpoints in the safetensors format under the seed module's parameter names (see
/// <see cref="ParameterLayout"/>), so a PyTorch user loads them straight into the seed's layout, and a file of
/// just those tensors written from PyTorch loads here. The configuration and the sequence view go in
/// <c>__metadata__</c> so the file alone rebuilds the model. The optimizer's state goes in a second file.
/// </summary>
public static class ModelCheckpoint
{
    public const string ModelFileName = "model.safetensors";
    public const string OptimizerFileName = "optimizer.safetensors";

    private const string FirstMomentName = "adam.exp_avg", SecondMomentName = "adam.exp_avg_sq";

    public static void Save(string path, SequenceClassifier<float> model, SequenceLayout sequence)
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
        SafeTensors.Write(path, Slices(model.Layout, model.Parameters), metadata);
    }

    public static LoadedModel Load(string path) => Load(SafeTensors.Read(path));

    /// <summary>Loads a model from a seekable stream (such as an embedded resource) named <paramref name="name"/> in messages.</summary>
    public static LoadedModel Load(string name, Stream stream) => Load(SafeTensors.Read(name, stream));

    private static LoadedModel Load(SafeTensorsFile file)
    {
        ModelConfig config = file.Metadata.ContainsKey("hidden_size") ? ConfigFromMetadata(file) : ConfigFromShapes(file);
        var model = new SequenceClassifier<float>(config);
        Fill(file, model.Layout, model.Parameters);
        return new LoadedModel(model, SequenceFromMetadata(file, config));
    }

    /// <summary>Saves Adam's moments and step, with <paramref name="trainerState"/> (string pairs) in the metadata.</summary>
    public static void SaveOptimizer(string path, Adam adam, IReadOnlyDictionary<string, string> trainerState)
    {
        var metadata = new Dictionary<string, string>(trainerState) { ["adam.step"] = Invariant(adam.Step) };
        int count = adam.FirstMoment.Length;
        SafeTensors.Write(path, [new SafeTensor(FirstMomentName, [count], adam.FirstMoment), new SafeTensor(SecondMomentName, [count], adam.SecondMoment)], metadata);
    }

    public static OptimizerState LoadOptimizer(string path, int parameterCount)
    {
        SafeTensorsFile file = SafeTensors.Read(path);
        float[] first = file.Get(FirstMomentName).Data, second = file.Get(SecondMomentName).Data;
        if (first.Length != parameterCount || second.Length != parameterCount)
            throw new SmnistException($"{path}: the optimizer state is for {first.Length} parameters, the model has {parameterCount}");
        long step = long.TryParse(file.Metadata.GetValueOrDefault("adam.step"), NumberStyles.None, CultureInfo.InvariantCulture, out long s)
            ? s
            : throw new SmnistException($"{path}: metadata 'adam.step' is missing or not a count");
        return new OptimizerState(step, first, second, file.Metadata);
    }

    private static List<SafeTensor> Slices(ParameterLayout layout, float[] parameters) =>
        layout.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList();

    private static void Fill(SafeTensorsFile file, ParameterLayout layout, float[] parameters)
    {
        var expected = layout.Tensors.ToDictionary(t => t.Name);
        foreach (SafeTensor tensor in file.Tensors)
            if (!expected.ContainsKey(tensor.Name))
                throw new SmnistException($"{file.Path}: unexpected tensor '{tensor.Name}' for a {layout.Config.Layers}-layer model");
        foreach (ParameterTensor slot in layout.Tensors)
        {
            SafeTensor tensor = file.Get(slot.Name);
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new SmnistException($"{file.Path}: tensor '{slot.Name}' has shape [{string.Join(", ", tensor.Shape)}], the configuration needs [{string.Join(", ", slot.Shape)}]");
            tensor.Data.CopyTo(parameters, slot.Offset);
        }
    }

    private static ModelConfig ConfigFromMetadata(SafeTensorsFile file)
    {
        var config = new ModelConfig(MetadataInt(file, "input_size"), MetadataInt(file, "hidden_size"), MetadataInt(file, "layers"), MetadataInt(file, "classes"));
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
        return Validated(file, new ModelConfig(forget[1] - forget[0], forget[0], layers, readout[0]));
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
                sequence = view == SequenceView.Permuted
                    ? SequenceLayout.FromPermutation(ParsePermutation(file))
                    : SequenceLayout.Create(view);
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
            if (!int.TryParse(parts[k], NumberStyles.None, CultureInfo.InvariantCulture, out permutation[k]))
                throw new SmnistException($"metadata 'permutation' entry {k} ('{parts[k]}') is not a pixel index");
        return permutation;
    }

    private static int MetadataInt(SafeTensorsFile file, string key) =>
        int.TryParse(file.Metadata.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new SmnistException($"{file.Path}: metadata '{key}' is missing or not a whole number");

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
