using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.IO;

namespace Smnist.Cli;

/// <summary>Names of the files a training run writes into its directory, and their readers and writers.</summary>
internal static class RunFiles
{
    public const string Config = "config.json";
    public const string LossCsv = "loss.csv";
    public const string Metrics = "metrics.json";
    public const string LossPng = "loss.png";
    public const string LossSvg = "loss.svg";
    public const string AccuracyPng = "accuracy.png";
    public const string ConfusionPng = "confusion.png";

    /// <summary>What a finished run adds; removed when the run continues, since they would describe an older step.</summary>
    public static readonly string[] Results = [Metrics, LossPng, LossSvg, AccuracyPng, ConfusionPng];

    /// <summary>Every file a run writes.</summary>
    public static readonly string[] All = [ModelCheckpoint.ModelFileName, ModelCheckpoint.OptimizerFileName, Config, LossCsv, .. Results];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void WriteJson(string path, JsonNode node) => AtomicFile.WriteAllText(path, node.ToJsonString(Indented) + "\n");

    public static JsonObject ReadJsonObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new SmnistException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new SmnistException($"{path}: not valid JSON ({Cli.OneLine(e.Message)})", e);
        }
        catch (IOException e)
        {
            throw new SmnistException($"{path}: cannot be read ({e.Message})", e);
        }
    }

    public static void WriteLossCsv(string path, IReadOnlyList<LossPoint> points)
    {
        var text = new StringBuilder("step,epoch,loss\n", 24 * (points.Count + 1));
        foreach (LossPoint point in points)
            text.Append(CultureInfo.InvariantCulture, $"{point.Step},{point.Epoch},{point.Loss:R}\n");
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads loss.csv back (to continue it on resume), keeping the steps up to <paramref name="lastStep"/>.</summary>
    public static List<LossPoint> ReadLossCsv(string path, long lastStep)
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
            if (points[k].Step != k + 1)
                throw new SmnistException($"{path}: step {points[k].Step} on line {k + 2} breaks the sequence 1, 2, 3, ...; the file does not belong to this checkpoint");
        if (points.Count != lastStep)
            throw new SmnistException($"{path}: holds {points.Count} steps but the checkpoint is at step {lastStep}; the file does not belong to this checkpoint");
        return points;
    }
}
