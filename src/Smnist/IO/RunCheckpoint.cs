using System.Globalization;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.IO;

/// <summary>Adam's saved state (its step is the run's position) and the trainer's, as read back from a <see cref="RunCheckpoint"/>.</summary>
internal sealed record OptimizerState(long Step, float[] FirstMoment, float[] SecondMoment, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Everything a run resumes from, read back from one file (<paramref name="Path"/>), so its parts always belong to
/// the same step; <paramref name="BestWeights"/> are the weights of the best epoch by validation loss, when the run keeps them.
/// </summary>
internal sealed record SavedRun(string Path, LoadedModel Model, OptimizerState Optimizer, float[]? BestWeights);

/// <summary>
/// A run's checkpoint. Everything <c>--resume</c> needs — the weights, Adam's moments and step (which is the run's
/// position), the options and the sequence view — is one file, <see cref="FileName"/>, replaced as a
/// whole by an atomic rename, so it can never mix two saves. Then <see cref="ModelCheckpoint.ModelFileName"/>,
/// the weights alone for eval, predict and PyTorch, is written with the same step in its metadata; a save cut
/// between the two renames leaves that file one save behind, and the next <see cref="Save"/> (a resume starts with
/// one) brings it level. Temporary files of a save that failed are deleted by the save, or, after a kill, by
/// <see cref="DeleteLeftovers"/>.
/// </summary>
internal static class RunCheckpoint
{
    /// <summary>The checkpoint's file name in a run folder.</summary>
    public const string FileName = "checkpoint.safetensors";

    /// <summary>The name runs of earlier versions gave the same file: still read, and removed once a checkpoint is saved under <see cref="FileName"/>.</summary>
    public const string LegacyFileName = "optimizer.safetensors";

    /// <summary>Written into the checkpoint so that a file of an older layout is refused by name.</summary>
    public const string FormatKey = "checkpoint.format";

    private const string Format = "3";
    private const string WeightsName = "weights", FirstMomentName = "adam.exp_avg", SecondMomentName = "adam.exp_avg_sq", BestWeightsName = "best.weights";
    private const string AdamStepKey = "adam.step";

    /// <summary>
    /// Saves the checkpoint, then the model file, into <paramref name="runDirectory"/>: the weights, Adam's state,
    /// the trainer's state (as metadata) and, when given, the best epoch's weights.
    /// </summary>
    internal static void Save(string runDirectory, SequenceClassifier<float> model, SequenceLayout sequence, Adam adam, IReadOnlyDictionary<string, string> trainerState, float[]? bestWeights)
    {
        Directory.CreateDirectory(runDirectory);
        Dictionary<string, string> metadata = ModelCheckpoint.Metadata(model, sequence);
        foreach (var (key, value) in trainerState)
            metadata[key] = value;
        metadata[FormatKey] = Format;
        metadata[AdamStepKey] = adam.Step.ToString(CultureInfo.InvariantCulture);
        int count = model.Layout.Count;
        List<SafeTensor> tensors =
        [
            new SafeTensor(WeightsName, [count], model.Parameters),
            new SafeTensor(FirstMomentName, [count], adam.FirstMoment),
            new SafeTensor(SecondMomentName, [count], adam.SecondMoment),
        ];
        if (bestWeights is not null)
            tensors.Add(new SafeTensor(BestWeightsName, [count], bestWeights));
        SafeTensors.Write(Path.Combine(runDirectory, FileName), tensors, metadata);
        File.Delete(Path.Combine(runDirectory, LegacyFileName));
        ModelCheckpoint.Save(Path.Combine(runDirectory, ModelCheckpoint.ModelFileName), model, sequence, adam.Step);
    }

    /// <summary>The checkpoint file in <paramref name="runDirectory"/> (under its current name, else its legacy one), or null when there is none.</summary>
    public static string? Find(string runDirectory) =>
        ((string[])[FileName, LegacyFileName]).Select(name => Path.Combine(runDirectory, name)).FirstOrDefault(File.Exists);

    /// <summary>Reads the checkpoint of <paramref name="runDirectory"/>; every defect is a one-line <see cref="SmnistException"/>.</summary>
    internal static SavedRun Load(string runDirectory)
    {
        string path = Find(runDirectory) ?? throw new SmnistException($"{runDirectory}: nothing to resume (no {FileName})");
        SafeTensorsFile file = SafeTensors.Read(path);
        if (file.Metadata.GetValueOrDefault(FormatKey) != Format)
            throw new SmnistException($"{path}: written by an older smnist, whose run checkpoints this version cannot resume; its {ModelCheckpoint.ModelFileName} can still be evaluated or used with --init");
        LoadedModel model = ModelCheckpoint.FromFlatWeights(file, file.Get(WeightsName));
        int count = model.Model.Layout.Count;
        float[] first = file.Get(FirstMomentName).Data, second = file.Get(SecondMomentName).Data;
        if (first.Length != count || second.Length != count)
            throw new SmnistException($"{path}: the optimizer state is for {first.Length} parameters, the model has {count}");
        ModelCheckpoint.RequireFinite(path, FirstMomentName, first);
        ModelCheckpoint.RequireFinite(path, SecondMomentName, second);
        float[]? best = file.TryGet(BestWeightsName, out SafeTensor? bestTensor) ? bestTensor.Data : null;
        if (best is not null && best.Length != count)
            throw new SmnistException($"{path}: the best epoch's weights hold {best.Length} values, the model has {count}");
        if (best is not null)
            ModelCheckpoint.RequireFinite(path, BestWeightsName, best);
        long step = long.TryParse(file.Metadata.GetValueOrDefault(AdamStepKey), NumberStyles.None, CultureInfo.InvariantCulture, out long s)
            ? s
            : throw new SmnistException($"{path}: metadata '{AdamStepKey}' is missing or not a count");
        return new SavedRun(path, model, new OptimizerState(step, first, second, file.Metadata), best);
    }

    /// <summary>Deletes temporary files that a save killed part-way left in <paramref name="runDirectory"/>.</summary>
    public static void DeleteLeftovers(string runDirectory) => AtomicFile.DeleteTemporaries(runDirectory);
}
