using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;

namespace Smnist.Training;

/// <summary>One training step's mean loss, as loss.csv records it.</summary>
/// <param name="Step">The step, from 1.</param>
/// <param name="Epoch">Its epoch, from 1.</param>
/// <param name="Loss">The batch's mean loss.</param>
public readonly record struct LossPoint(long Step, int Epoch, float Loss);

/// <summary>
/// A run's folder, held locked (<see cref="RunLock"/>) from <see cref="Create"/> or <see cref="Open"/> to
/// <see cref="Dispose"/>: config.json (every option after the recipe), loss.csv (one line per step), the
/// <see cref="RunCheckpoint"/> (checkpoint.safetensors: weights, Adam's state, position; and model.safetensors) and,
/// once finished, metrics.json. Every file is written under a temporary name and renamed into place, loss.csv
/// before the checkpoint, so loss.csv always covers the checkpoint beside it whenever the process is stopped.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    /// <summary>Every option of the run, after the recipe.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>step,epoch,loss for every step so far.</summary>
    public const string LossFileName = "loss.csv";

    /// <summary>The final evaluation and per-epoch figures of a finished run.</summary>
    public const string MetricsFileName = "metrics.json";

    /// <summary>The run checkpoint: everything <c>--resume</c> continues from (weights, Adam's state, options, position).</summary>
    public const string CheckpointFileName = RunCheckpoint.FileName;

    // config.json's keys besides the options' own (TrainingOptions.ToJson).
    internal const string RecipeKey = "recipe", DataDirectoryKey = "data_dir", InitialWeightsKey = "init";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly RunLock _lock;
    private readonly List<LossPoint> _losses = [];

    private RunDirectory(string path, RunLock runLock)
    {
        Path = path;
        _lock = runLock;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The step of the last checkpoint saved here in this session (a resumed run's counts); null before the first.</summary>
    public long? SavedStep { get; private set; }

    /// <summary>The loss of every step so far, earlier sessions of a resumed run included.</summary>
    public IReadOnlyList<LossPoint> Losses => _losses;

    /// <summary>
    /// Locks <paramref name="path"/> (created if missing) for a new run and removes temporaries a killed run left.
    /// A folder that already holds a run is refused unless <paramref name="overwrite"/>; its files are removed only
    /// by <see cref="Begin"/>, once the new run is ready.
    /// </summary>
    /// <param name="path">The run folder.</param>
    /// <param name="overwrite">Replace a run already there.</param>
    /// <param name="refusal">The message when the folder holds a run and <paramref name="overwrite"/> is false.</param>
    public static RunDirectory Create(string path, bool overwrite, string? refusal = null)
    {
        RunLock runLock = RunLock.Acquire(path);
        try
        {
            RunCheckpoint.DeleteLeftovers(path);
            bool holdsRun = File.Exists(System.IO.Path.Combine(path, ModelCheckpoint.ModelFileName)) || RunCheckpoint.Find(path) is not null;
            if (holdsRun && !overwrite)
                throw new SmnistException(refusal ?? $"{path} already holds a trained model ({ModelCheckpoint.ModelFileName})");
            return new RunDirectory(path, runLock);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>Locks the saved run in <paramref name="path"/> to continue it and removes temporaries a killed run left.</summary>
    public static RunDirectory Open(string path)
    {
        RequireRun(path);
        RunLock runLock = RunLock.Acquire(path);
        try
        {
            RunCheckpoint.DeleteLeftovers(path);
            return new RunDirectory(path, runLock);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>A saved run's config.json, as written by <see cref="Begin"/>; readable without opening the run.</summary>
    public static JsonObject ReadConfig(string path)
    {
        RequireRun(path);
        string file = System.IO.Path.Combine(path, ConfigFileName);
        try
        {
            return JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                ?? throw new SmnistException($"{file}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new SmnistException($"{file}: not valid JSON ({e.Message.ReplaceLineEndings(" ")})", e);
        }
        catch (IOException e)
        {
            throw new SmnistException($"{file}: cannot be read ({e.Message})", e);
        }
    }

    /// <summary>
    /// Starts a new run of <paramref name="trainer"/> here: removes every file of an earlier run (this class's and
    /// <paramref name="otherFiles"/>, such as plots), writes config.json and starts recording each step's loss.
    /// </summary>
    /// <param name="trainer">The run's trainer, not yet trained.</param>
    /// <param name="recipe">The recipe the options came from, recorded in config.json.</param>
    /// <param name="dataDirectory">Where the data was read from, or null for the default.</param>
    /// <param name="initialWeights">The file the weights started from, or null.</param>
    /// <param name="otherFiles">Names of further files a run writes here.</param>
    public void Begin(Trainer trainer, string recipe, string? dataDirectory, string? initialWeights, IEnumerable<string> otherFiles)
    {
        foreach (string name in (string[])[ModelCheckpoint.ModelFileName, RunCheckpoint.FileName, RunCheckpoint.LegacyFileName, ConfigFileName, LossFileName, MetricsFileName, .. otherFiles])
            File.Delete(System.IO.Path.Combine(Path, name));
        WriteJson(ConfigFileName, ConfigJson(trainer, recipe, dataDirectory, initialWeights));
        Follow(trainer);
    }

    /// <summary>
    /// Continues the run <paramref name="trainer"/> was resumed from: reads loss.csv back to the checkpoint's step,
    /// removes the results of the earlier session (metrics.json and <paramref name="resultFiles"/>, which described
    /// a finished run), brings every file level with the checkpoint and records each further step.
    /// </summary>
    public void Continue(Trainer trainer, IEnumerable<string> resultFiles)
    {
        _losses.AddRange(ReadLosses(System.IO.Path.Combine(Path, LossFileName), trainer.Step));
        foreach (string name in (string[])[MetricsFileName, .. resultFiles])
            File.Delete(System.IO.Path.Combine(Path, name));
        SaveProgress(trainer);
        Follow(trainer);
    }

    /// <summary>Writes loss.csv, then the checkpoint: everything a resume needs. Returns the paths written.</summary>
    public IReadOnlyList<string> SaveProgress(Trainer trainer)
    {
        var text = new StringBuilder("step,epoch,loss\n", 24 * (_losses.Count + 1));
        foreach (LossPoint point in _losses)
            text.Append(CultureInfo.InvariantCulture, $"{point.Step},{point.Epoch},{point.Loss:R}\n");
        AtomicFile.WriteAllText(System.IO.Path.Combine(Path, LossFileName), text.ToString());
        trainer.SaveCheckpoint(Path);
        SavedStep = trainer.Step;
        return [FileIn(ModelCheckpoint.ModelFileName), FileIn(CheckpointFileName), FileIn(LossFileName)];
    }

    /// <summary>Writes metrics.json for the run's <paramref name="final"/> evaluation; returns its path.</summary>
    public string WriteMetrics(Trainer trainer, EvaluationResult final)
    {
        int lastEpoch = _losses.Count == 0 ? 0 : _losses[^1].Epoch;
        double finalTrainLoss = _losses.Count == 0 ? double.NaN : _losses.Where(p => p.Epoch == lastEpoch).Average(p => (double)p.Loss);
        // With a validation set the epochs are evaluated on it, and the test set only at the end.
        bool validation = trainer.ValidationCount > 0;
        var perEpoch = new JsonArray();
        foreach (EpochReport epoch in trainer.History)
        {
            var entry = new JsonObject { ["epoch"] = epoch.Epoch, ["train_loss"] = epoch.TrainLoss };
            if (validation)
            {
                entry["validation_accuracy"] = epoch.ValidationAccuracy;
                entry["validation_loss"] = epoch.ValidationLoss;
            }
            else
            {
                entry["test_accuracy"] = epoch.TestAccuracy;
                entry["test_loss"] = epoch.TestLoss;
            }
            entry["seconds"] = epoch.Seconds;
            perEpoch.Add(entry);
        }
        var metrics = new JsonObject
        {
            ["test_accuracy"] = final.Accuracy,
            ["test_loss"] = final.Loss,
            ["test_samples"] = final.Samples,
            ["test_augmented"] = trainer.Options.AugmentTest,
            ["epochs"] = trainer.History.Count,
            ["steps"] = trainer.Step,
            ["train_seconds"] = trainer.TrainSeconds,
            ["train_samples_per_second"] = trainer.SamplesPerSecond,
            ["final_train_loss"] = finalTrainLoss,
        };
        if (validation && trainer.BestEpoch is int best)
        {
            // The weights saved are the best epoch's, so these are the figures of the model the test figures are of.
            metrics["validation_samples"] = trainer.ValidationCount;
            metrics["best_epoch"] = best;
            metrics["validation_accuracy"] = trainer.History[best - 1].ValidationAccuracy;
            metrics["validation_loss"] = trainer.History[best - 1].ValidationLoss;
            metrics["stopped_early"] = trainer.StoppedEarly;
        }
        metrics["per_epoch"] = perEpoch;
        WriteJson(MetricsFileName, metrics);
        return FileIn(MetricsFileName);
    }

    /// <summary>The path of <paramref name="name"/> in this folder.</summary>
    public string FileIn(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Releases the folder's lock.</summary>
    public void Dispose() => _lock.Dispose();

    private void Follow(Trainer trainer) =>
        trainer.StepCompleted += step => _losses.Add(new LossPoint(step.Step, step.Epoch, (float)step.Loss));

    private void WriteJson(string name, JsonNode node) => AtomicFile.WriteAllText(FileIn(name), node.ToJsonString(Indented) + "\n");

    private static void RequireRun(string path)
    {
        if (RunCheckpoint.Find(path) is null)
            throw new SmnistException($"{path}: no run to resume (no {CheckpointFileName})");
    }

    /// <summary>
    /// A text value of config.json (<paramref name="config"/>, read from <paramref name="path"/>): a string or null,
    /// else a one-line error naming the key.
    /// </summary>
    internal static string? ConfigText(JsonObject config, string path, string key) => config[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonNode other => throw new SmnistException($"{path}: '{key}' is not a string ({other.ToJsonString()})"),
    };

    /// <summary>Every option the run uses, after the recipe is applied (the trainer's own record of them), and where it ran.</summary>
    private JsonObject ConfigJson(Trainer trainer, string recipe, string? dataDirectory, string? initialWeights)
    {
        var config = new JsonObject { [RecipeKey] = recipe };
        foreach (var (key, value) in trainer.Options.ToJson())
            config[key] = value?.DeepClone();
        config[DataDirectoryKey] = dataDirectory is null ? null : System.IO.Path.GetFullPath(dataDirectory);
        config[InitialWeightsKey] = initialWeights;
        config["out"] = Path;
        config["train_samples"] = trainer.TrainCount;
        config["test_samples"] = trainer.TestCount;
        config["steps_per_epoch"] = trainer.BatchesPerEpoch;
        config["total_steps"] = trainer.TotalSteps;
        return config;
    }

    /// <summary>Reads loss.csv back (to continue it on resume), keeping the steps up to <paramref name="lastStep"/>.</summary>
    private static List<LossPoint> ReadLosses(string path, long lastStep)
    {
        var points = new List<LossPoint>();
        if (!File.Exists(path))
            return lastStep == 0 ? points : throw new SmnistException($"{path}: missing, but the checkpoint is at step {lastStep}");
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || line.Length == 0)
                continue;
            string[] fields = line.Split(',');
            if (fields.Length != 3
                || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long step)
                || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
                || !float.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out float loss))
            {
                throw new SmnistException($"{path}: line {lineNumber} is not 'step,epoch,loss'");
            }
            if (step <= lastStep)
                points.Add(new LossPoint(step, epoch, loss));
        }
        // Steps 1..lastStep, each once and in order: anything else is not this checkpoint's record.
        for (int k = 0; k < points.Count; k++)
        {
            if (points[k].Step != k + 1)
                throw new SmnistException($"{path}: step {points[k].Step} on line {k + 2} breaks the sequence 1, 2, 3, ...; the file does not belong to this checkpoint");
        }
        if (points.Count != lastStep)
            throw new SmnistException($"{path}: holds {points.Count} steps but the checkpoint is at step {lastStep}; the file does not belong to this checkpoint");
        return points;
    }
}
