using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Smnist.IO;

namespace Smnist.Cli.Sweeps;

/// <summary>The mean and the sample standard deviation (n − 1 in the denominator) of some values; the deviation is null below two.</summary>
/// <param name="Count">How many values.</param>
/// <param name="Mean">Their mean; NaN for none.</param>
/// <param name="StandardDeviation">sqrt(Σ(x − mean)² / (n − 1)): the sample standard deviation, as papers report over seeds; null for fewer than two values.</param>
internal readonly record struct Statistic(int Count, double Mean, double? StandardDeviation)
{
    public static Statistic Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return new Statistic(0, double.NaN, null);
        double mean = values.Average();
        double? deviation = values.Count < 2 ? null : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Statistic(values.Count, mean, deviation);
    }

    /// <summary>"98.12 ± 0.10" with the values multiplied by <paramref name="scale"/>; "—" for none; the mean alone for one.</summary>
    public string Format(string format, double scale = 1) => Count == 0
        ? "—"
        : StandardDeviation is double s
            ? string.Create(CultureInfo.InvariantCulture, $"{(Mean * scale).ToString(format, CultureInfo.InvariantCulture)} ± {(s * scale).ToString(format, CultureInfo.InvariantCulture)}")
            : (Mean * scale).ToString(format, CultureInfo.InvariantCulture);

    public JsonObject ToJson() => new()
    {
        ["n"] = Count,
        ["mean"] = Count == 0 ? null : Mean,
        ["std"] = StandardDeviation,
    };
}

/// <summary>One configuration's runs: how many finished, and the statistics of the finished ones.</summary>
internal sealed record ConfigurationSummary(string Configuration, IReadOnlyList<KeyValuePair<string, string>> Values, int Finished, int Total,
    Statistic TestAccuracy, Statistic TestLoss, Statistic TrainSeconds, IReadOnlyList<double> Accuracies);

/// <summary>
/// <c>smnist sweep report</c>: every run's state and metrics.json, summarised per configuration (finished runs only;
/// the others are listed), written as report.csv and report.png beside the runs.
/// </summary>
internal sealed class SweepReport
{
    public const string CsvFileName = "report.csv";
    public const string PlotFileName = "report.png";

    private SweepReport(Sweep sweep, IReadOnlyList<RunStatus> statuses, IReadOnlyList<ConfigurationSummary> configurations)
    {
        Sweep = sweep;
        Statuses = statuses;
        Configurations = configurations;
    }

    public Sweep Sweep { get; }

    /// <summary>Each run's status, by index.</summary>
    public IReadOnlyList<RunStatus> Statuses { get; }

    public IReadOnlyList<ConfigurationSummary> Configurations { get; }

    public static SweepReport Read(Sweep sweep)
    {
        RunStatus[] statuses = [.. sweep.Runs.Select(RunStatus.Of)];
        var configurations = new List<ConfigurationSummary>();
        foreach (string configuration in sweep.Configurations)
        {
            SweepRun[] runs = [.. sweep.Runs.Where(r => r.Configuration == configuration)];
            SweepRun[] finished = [.. runs.Where(r => statuses[r.Index].State == RunState.Finished)];
            double[] accuracies = [.. finished.Select(r => Metric(statuses[r.Index], "test_accuracy", r))];
            var values = sweep.VariedKeys.Select(key => new KeyValuePair<string, string>(key, runs[0].Settings.LastOrDefault(s => s.Key == key).Value is JsonValue value
                ? value.TryGetValue(out string? text) ? text : value.ToJsonString()
                : "")).ToList();
            configurations.Add(new ConfigurationSummary(configuration, values, finished.Length, runs.Length,
                Statistic.Of(accuracies),
                Statistic.Of([.. finished.Select(r => Metric(statuses[r.Index], "test_loss", r))]),
                Statistic.Of([.. finished.Select(r => Metric(statuses[r.Index], "train_seconds", r))]),
                accuracies));
        }
        return new SweepReport(sweep, statuses, configurations);
    }

    /// <summary>The runs that are not finished, which the statistics leave out.</summary>
    public IEnumerable<(SweepRun Run, RunStatus Status)> Unfinished =>
        Sweep.Runs.Select(r => (r, Statuses[r.Index])).Where(p => p.Item2.State != RunState.Finished);

    /// <summary>One line per configuration: its varied values, then the statistics (accuracy as a fraction, as metrics.json has it).</summary>
    public string Csv()
    {
        var text = new StringBuilder();
        string[] header = ["configuration", .. Sweep.VariedKeys, "finished", "total",
            "test_accuracy_mean", "test_accuracy_std", "test_loss_mean", "test_loss_std", "train_seconds_mean", "train_seconds_std"];
        text.AppendJoin(',', header.Select(Field)).Append('\n');
        foreach (ConfigurationSummary c in Configurations)
        {
            string[] fields = [c.Configuration, .. c.Values.Select(v => v.Value), Number(c.Finished), Number(c.Total),
                Number(c.TestAccuracy.Mean), Number(c.TestAccuracy.StandardDeviation), Number(c.TestLoss.Mean), Number(c.TestLoss.StandardDeviation),
                Number(c.TrainSeconds.Mean), Number(c.TrainSeconds.StandardDeviation)];
            text.AppendJoin(',', fields.Select(Field)).Append('\n');
        }
        return text.ToString();

        static string Number(double? value) => value is double v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";
        // RFC 4180: a field with a comma or quote goes in quotes ("hidden=64,lr=0.002").
        static string Field(string value) => value.Contains(',') || value.Contains('"') ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }

    public JsonObject Json(IEnumerable<string> files)
    {
        var configurations = new JsonArray();
        foreach (ConfigurationSummary c in Configurations)
        {
            var values = new JsonObject();
            foreach (var (key, value) in c.Values)
                values[key] = value;
            configurations.Add(new JsonObject
            {
                ["configuration"] = c.Configuration,
                ["values"] = values,
                ["finished"] = c.Finished,
                ["total"] = c.Total,
                ["test_accuracy"] = c.TestAccuracy.ToJson(),
                ["test_loss"] = c.TestLoss.ToJson(),
                ["train_seconds"] = c.TrainSeconds.ToJson(),
            });
        }
        var runs = new JsonArray();
        foreach (SweepRun run in Sweep.Runs)
        {
            RunStatus status = Statuses[run.Index];
            runs.Add(new JsonObject
            {
                ["index"] = run.Index,
                ["configuration"] = run.Configuration,
                ["seed"] = run.Seed,
                ["folder"] = run.Directory,
                ["state"] = status.StateName,
                ["detail"] = status.Detail,
                ["test_accuracy"] = status.Metrics?["test_accuracy"]?.DeepClone(),
                ["test_loss"] = status.Metrics?["test_loss"]?.DeepClone(),
                ["train_seconds"] = status.Metrics?["train_seconds"]?.DeepClone(),
            });
        }
        return new JsonObject
        {
            ["name"] = Sweep.Name,
            ["out"] = Sweep.OutDirectory,
            ["runs_total"] = Sweep.Runs.Count,
            ["runs_finished"] = Statuses.Count(s => s.State == RunState.Finished),
            ["std"] = "sample standard deviation (n - 1) over the finished runs",
            ["configurations"] = configurations,
            ["runs"] = runs,
            ["files"] = new JsonArray([.. files.Select(f => (JsonNode)f)]),
        };
    }

    /// <summary>Writes report.csv and report.png into the sweep's folder; returns their paths.</summary>
    public IReadOnlyList<string> Write()
    {
        Directory.CreateDirectory(Sweep.OutDirectory);
        string csv = Path.Combine(Sweep.OutDirectory, CsvFileName), png = Path.Combine(Sweep.OutDirectory, PlotFileName);
        AtomicFile.WriteAllText(csv, Csv());
        Plots.WriteSweepAccuracy(Sweep.Name, [.. Configurations.Select(c => (c.Configuration, c.Accuracies, c.TestAccuracy))], png);
        return [csv, png];
    }

    private static double Metric(RunStatus status, string key, SweepRun run) =>
        status.Metrics![key] is JsonValue value && value.TryGetValue(out double number)
            ? number
            : throw new SmnistException($"{Path.Combine(run.Directory, Smnist.Training.RunDirectory.MetricsFileName)}: '{key}' is missing or not a number");
}
