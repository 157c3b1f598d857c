using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Smnist.Training;

/// <summary>
/// Where a <see cref="Trainer"/> stands besides its weights and Adam's state (whose step is the run's position):
/// what a run checkpoint saves of the trainer, and the only place that turns it into the checkpoint's
/// string-keyed metadata and back.
/// </summary>
/// <param name="Options">The run's options, in config.json's form.</param>
/// <param name="EpochLossSum">The sum of the losses of the epoch in progress.</param>
/// <param name="TrainSeconds">Seconds spent training, over all sessions.</param>
/// <param name="History">The finished epochs.</param>
/// <param name="BestEpoch">With a validation set: the epoch (from 1) with the lowest validation loss so far, whose weights are kept; else null.</param>
internal sealed record TrainerState(TrainingOptions Options, double EpochLossSum, double TrainSeconds, IReadOnlyList<EpochReport> History, int? BestEpoch)
{
    private const string OptionsKey = "trainer.options";
    private const string EpochLossSumKey = "trainer.epoch_loss_sum";
    private const string TrainSecondsKey = "trainer.train_seconds";
    private const string HistoryKey = "trainer.history";
    private const string BestEpochKey = "trainer.best_epoch";

    // NaN stands for figures a run has not got (no test set, no validation set).
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The state as checkpoint metadata.</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            [OptionsKey] = Options.ToJson().ToJsonString(),
            [EpochLossSumKey] = EpochLossSum.ToString("R", CultureInfo.InvariantCulture),
            [TrainSecondsKey] = TrainSeconds.ToString("R", CultureInfo.InvariantCulture),
            [HistoryKey] = JsonSerializer.Serialize(History, Json),
        };
        if (BestEpoch is int best)
            metadata[BestEpochKey] = best.ToString(CultureInfo.InvariantCulture);
        return metadata;
    }

    /// <summary>Reads back what <see cref="ToMetadata"/> wrote into <paramref name="path"/>; every defect is a one-line <see cref="SmnistException"/>.</summary>
    public static TrainerState FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        TrainingOptions options = TrainingOptions.FromJson(Read<JsonObject>(metadata, path, OptionsKey), $"{path}: metadata '{OptionsKey}'");
        int? bestEpoch = metadata.ContainsKey(BestEpochKey) ? Number<int>(metadata, path, BestEpochKey) : null;
        return new TrainerState(options, Number<double>(metadata, path, EpochLossSumKey), Number<double>(metadata, path, TrainSecondsKey),
            Read<List<EpochReport>>(metadata, path, HistoryKey), bestEpoch);
    }

    private static T Read<T>(IReadOnlyDictionary<string, string> metadata, string path, string key)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(metadata.GetValueOrDefault(key) ?? "null", Json)
                ?? throw new SmnistException($"{path}: metadata '{key}' is missing");
        }
        catch (JsonException e)
        {
            throw new SmnistException($"{path}: metadata '{key}' is not valid: {e.Message}");
        }
    }

    private static T Number<T>(IReadOnlyDictionary<string, string> metadata, string path, string key) where T : System.Numerics.INumber<T> =>
        T.TryParse(metadata.GetValueOrDefault(key), NumberStyles.Float, CultureInfo.InvariantCulture, out T? value) && value is not null
            ? value
            : throw new SmnistException($"{path}: metadata '{key}' is missing or not a number");
}
