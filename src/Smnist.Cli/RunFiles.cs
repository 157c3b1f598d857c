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
            return points;
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
        return points;
    }
}
