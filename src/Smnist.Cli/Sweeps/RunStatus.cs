using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Cli.Sweeps;

/// <summary>Where a sweep's run stands, read from its folder alone (so a report on a login node sees the runs of every node).</summary>
internal enum RunState
{
    /// <summary>No checkpoint yet.</summary>
    NotStarted,
    /// <summary>A <c>smnist train</c> holds the folder's lock now.</summary>
    Running,
    /// <summary>A checkpoint and no metrics: stopped (a signal, a preemption, a crash); <c>sweep task</c> resumes it.</summary>
    Interrupted,
    /// <summary>Its last <c>sweep task</c> ended in an error (recorded in <see cref="RunStatus.FailureFileName"/>).</summary>
    Failed,
    /// <summary>metrics.json is there.</summary>
    Finished,
    /// <summary>The folder holds a run of other options (the sweep file was edited since): neither reported nor continued.</summary>
    OtherConfiguration,
}

/// <summary>A run's state, a line that details it, and a finished run's metrics.json.</summary>
internal sealed record RunStatus(RunState State, string Detail, JsonObject? Metrics)
{
    /// <summary>Written by <c>sweep task</c> in the run's folder when its run ends in an error: the exit code and the error line.</summary>
    public const string FailureFileName = "failure.txt";

    /// <summary>The state's name in tables and JSON.</summary>
    public string StateName => State switch
    {
        RunState.NotStarted => "not started",
        RunState.Running => "running",
        RunState.Interrupted => "interrupted",
        RunState.Failed => "failed",
        RunState.OtherConfiguration => "other configuration",
        _ => "finished",
    };

    /// <summary>Reads the state of <paramref name="run"/> from its folder.</summary>
    public static RunStatus Of(SweepRun run)
    {
        string folder = run.Directory;
        string metricsFile = Path.Combine(folder, RunDirectory.MetricsFileName);
        bool trained = File.Exists(metricsFile) || RunDirectory.HasCheckpoint(folder);
        if (trained && Mismatch(run) is string mismatch)
            return new RunStatus(RunState.OtherConfiguration, mismatch, null);
        if (File.Exists(metricsFile))
        {
            JsonObject metrics = ReadObject(metricsFile);
            string accuracy = metrics["test_accuracy"] is JsonValue value && value.TryGetValue(out double a) ? string.Create(CultureInfo.InvariantCulture, $"test accuracy {a * 100:F2}%") : "no test accuracy";
            return new RunStatus(RunState.Finished, accuracy, metrics);
        }
        string progress = Progress(folder);
        if (RunDirectory.IsInUse(folder))
            return new RunStatus(RunState.Running, progress, null);
        string failure = Path.Combine(folder, FailureFileName);
        if (File.Exists(failure))
            return new RunStatus(RunState.Failed, File.ReadLines(failure).FirstOrDefault() ?? "", null);
        if (RunDirectory.HasCheckpoint(folder))
            return new RunStatus(RunState.Interrupted, progress, null);
        return new RunStatus(RunState.NotStarted, "", null);
    }

    /// <summary>
    /// "epochs 2, but the sweep asks for 3" when the run's config.json differs from the sweep's settings (the file was
    /// edited since): such a run must be neither reported nor continued as this one; else null.
    /// </summary>
    private static string? Mismatch(SweepRun run)
    {
        string file = Path.Combine(run.Directory, RunDirectory.ConfigFileName);
        if (!File.Exists(file))
            return null;
        JsonObject recorded = ReadObject(file);
        foreach (var (key, asked) in run.Settings)
        {
            if (!SweepKeys.Matches(key, asked, recorded[key]))
                return $"{key} {recorded[key]?.ToJsonString() ?? "unset"}, but the sweep asks for {asked.ToJsonString()}";
        }
        return null;
    }

    /// <summary>"step 120 of 400" from the run's config.json and loss.csv (written with each checkpoint), or "".</summary>
    private static string Progress(string folder)
    {
        string loss = Path.Combine(folder, RunDirectory.LossFileName);
        string config = Path.Combine(folder, RunDirectory.ConfigFileName);
        if (!File.Exists(loss) || !File.Exists(config))
            return "";
        try
        {
            long steps = File.ReadLines(loss).Skip(1).LongCount(line => line.Length > 0);
            string total = JsonNode.Parse(File.ReadAllText(config))?["total_steps"]?.ToJsonString() ?? "?";
            return $"checkpoint at step {steps} of {total}";
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return "";
        }
    }

    private static JsonObject ReadObject(string file)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new SmnistException($"{file}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new SmnistException($"{file}: not valid JSON ({SmnistException.OneLine(e.Message)})", e);
        }
    }
}
