using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.IO;

namespace Smnist.Training;

/// <summary>
/// A run saved in a folder, read to be continued with <c>Trainer.Resume</c>: its checkpoint (everything the run
/// continues from) and, when <see cref="RunDirectory"/> wrote one, its config.json. The run's options are its
/// checkpoint's own; config.json is their record, so one edited to say otherwise is refused rather than obeyed
/// or ignored silently. What a resume may change instead is <see cref="ResumeChanges"/>.
/// </summary>
public sealed class ResumableRun
{
    private ResumableRun(string directory, SavedRun saved, TrainerState state, string? dataDirectory)
    {
        Directory = directory;
        Saved = saved;
        State = state;
        DataDirectory = dataDirectory;
    }

    /// <summary>The run's folder.</summary>
    public string Directory { get; }

    /// <summary>The run's options, as its checkpoint saved them.</summary>
    public TrainingOptions Options => State.Options;

    /// <summary>The step the run stands at.</summary>
    public long Step => Saved.Optimizer.Step;

    /// <summary>Where a run on images read its data (config.json's <c>data_dir</c>); null for the default place, or without config.json.</summary>
    public string? DataDirectory { get; }

    internal SavedRun Saved { get; }

    internal TrainerState State { get; }

    /// <summary>Reads the run saved in <paramref name="runDirectory"/>; every defect is a one-line <see cref="SmnistException"/>.</summary>
    public static ResumableRun Read(string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        SavedRun saved = RunCheckpoint.Load(runDirectory);
        TrainerState state = TrainerState.FromMetadata(saved.Optimizer.Metadata, saved.Path);
        string configPath = Path.Combine(runDirectory, RunDirectory.ConfigFileName);
        string? dataDirectory = null;
        if (File.Exists(configPath))
        {
            JsonObject config = RunDirectory.ReadConfig(runDirectory);
            RequireAgreement(configPath, config, state.Options);
            // Not needed to resume, but a config.json that is not as smnist writes it is refused, not half-read.
            RunDirectory.ConfigText(config, configPath, RunDirectory.RecipeKey);
            RunDirectory.ConfigText(config, configPath, RunDirectory.InitialWeightsKey);
            dataDirectory = RunDirectory.ConfigText(config, configPath, RunDirectory.DataDirectoryKey);
        }
        return new ResumableRun(runDirectory, saved, state, dataDirectory);
    }

    /// <summary>
    /// config.json's options must be the checkpoint's (but for what <see cref="ResumeChanges"/> may change): a resume
    /// trains on the checkpoint's, so an edited config.json would otherwise say what the run does not do.
    /// </summary>
    private static void RequireAgreement(string configPath, JsonObject config, TrainingOptions saved)
    {
        TrainingOptions recorded = TrainingOptions.FromJson(config, configPath);
        JsonObject expected = ResumeChanges.Unchanged(saved).ToJson();
        JsonObject actual = ResumeChanges.Unchanged(recorded).ToJson();
        foreach (var (key, value) in expected)
        {
            if (!JsonNode.DeepEquals(value, actual[key]))
            {
                throw new SmnistException($"{configPath}: '{key}' is {Show(actual[key])} but the run was trained with {Show(value)}; a resumed run keeps its own options " +
                    "(put config.json back, or start a new run to change them)");
            }
        }
    }

    private static string Show(JsonNode? value) => value?.ToJsonString() ?? "null";
}

/// <summary>
/// What a resumed run may change; everything else it keeps from its checkpoint, so that it continues exactly.
/// </summary>
/// <param name="MaxSteps">The step limit: null runs to the last epoch (the saved limit is always replaced).</param>
/// <param name="Threads">The worker count; null keeps the run's. Another count gives a result that differs from an uninterrupted run's in rounding.</param>
public sealed record ResumeChanges(long? MaxSteps = null, int? Threads = null)
{
    /// <summary>The options a resume continues with: <paramref name="saved"/> with these changes.</summary>
    internal TrainingOptions ApplyTo(TrainingOptions saved) => saved with { MaxSteps = MaxSteps, Threads = Threads ?? saved.Threads };

    /// <summary><paramref name="options"/> with every value a resume may change set to the same placeholder, for comparing the rest.</summary>
    internal static TrainingOptions Unchanged(TrainingOptions options) => options with { MaxSteps = null, Threads = 0 };
}
