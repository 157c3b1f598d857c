using System.Globalization;
using System.Text.Json.Nodes;
using Smnist.Cli.Sweeps;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary>The report's arithmetic (mean ± sample standard deviation over the finished runs), its files and its listing of the rest.</summary>
[Trait("Category", "command")]
public sealed class SweepReportTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void TheStandardDeviationIsTheSampleOne()
    {
        Statistic s = Statistic.Of([1, 2, 3, 4]);
        Assert.Equal(4, s.Count);
        Assert.Equal(2.5, s.Mean);
        Assert.Equal(Math.Sqrt(5.0 / 3), s.StandardDeviation!.Value, 12);
        Assert.Equal("2.50 ± 1.29", s.Format("F2"));

        Statistic one = Statistic.Of([0.981]);
        Assert.Null(one.StandardDeviation);
        Assert.Equal("98.10", one.Format("F2", 100));
        Assert.Equal("—", Statistic.Of([]).Format("F2"));
    }

    [Fact]
    public void FinishedRunsAreAveragedPerConfigurationAndTheOthersListed()
    {
        string file = _directory["sweep.json"];
        File.WriteAllText(file, """{"name": "r", "out": "out", "grid": {"hidden": [16, 24]}, "seeds": [1, 2, 3]}""");
        // Made by hand, as train writes them: hidden=16 has three finished runs, hidden=24 one, one interrupted, one not started.
        Metrics("hidden=16,seed=1", 0.90, 0.30, 10);
        Metrics("hidden=16,seed=2", 0.92, 0.26, 12);
        Metrics("hidden=16,seed=3", 0.94, 0.22, 14);
        Metrics("hidden=24,seed=2", 0.95, 0.20, 30);
        string interrupted = _directory[Path.Combine("out", "hidden=24,seed=3")];
        Directory.CreateDirectory(interrupted);
        File.WriteAllText(Path.Combine(interrupted, "checkpoint.safetensors"), "");

        CliHarness.Outcome text = CliHarness.Succeeds("sweep", "report", file);
        Assert.Contains("│ hidden=16     │      3/3 │      92.00 ± 2.00 │ 0.2600 ± 0.0400 │     12.0 ± 2.0 │", text.Out);
        Assert.Contains("│ hidden=24     │      1/3 │             95.00 │          0.2000 │           30.0 │", text.Out);
        Assert.Contains("mean ± sample standard deviation (n − 1)", text.Out);
        Assert.Contains("not in the figures (2):", text.Out);
        Assert.Contains("     3  hidden=24,seed=1: not started", text.Out);
        Assert.Contains("     5  hidden=24,seed=3: interrupted", text.Out);

        var json = JsonNode.Parse(CliHarness.Succeeds("sweep", "report", file, "--json").Out)!;
        JsonNode first = json["configurations"]![0]!;
        Assert.Equal("hidden=16", first["configuration"]!.GetValue<string>());
        Assert.Equal(0.92, first["test_accuracy"]!["mean"]!.GetValue<double>(), 12);
        Assert.Equal(0.02, first["test_accuracy"]!["std"]!.GetValue<double>(), 12);
        Assert.Equal(3, first["test_accuracy"]!["n"]!.GetValue<int>());
        JsonNode second = json["configurations"]![1]!;
        Assert.Equal(1, second["finished"]!.GetValue<int>());
        Assert.Null(second["test_accuracy"]!["std"]);
        Assert.Equal(6, json["runs_total"]!.GetValue<int>());
        Assert.Equal(4, json["runs_finished"]!.GetValue<int>());

        string[] csv = File.ReadAllLines(_directory[Path.Combine("out", "report.csv")]);
        Assert.Equal("configuration,hidden,finished,total,test_accuracy_mean,test_accuracy_std,test_loss_mean,test_loss_std,train_seconds_mean,train_seconds_std", csv[0]);
        string[] row = csv[1].Split(',');
        Assert.Equal(["hidden=16", "16", "3", "3"], row[..4]);
        Assert.Equal(0.92, double.Parse(row[4], CultureInfo.InvariantCulture), 12);
        Assert.Equal(0.02, double.Parse(row[5], CultureInfo.InvariantCulture), 12);
        Assert.Equal(["hidden=24", "24", "1", "3", "0.95", ""], csv[2].Split(',')[..6]);
        byte[] png = File.ReadAllBytes(_directory[Path.Combine("out", "report.png")]);
        Assert.Equal((byte[])[0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void ConfigurationNamesWithCommasAreQuotedInTheCsv()
    {
        string file = _directory["sweep.json"];
        File.WriteAllText(file, """{"out": "out", "grid": {"hidden": [16], "lr": [0.01]}}""");
        CliHarness.Succeeds("sweep", "report", file);
        Assert.StartsWith("\"hidden=16,lr=0.01\",16,0.01,0,1,", File.ReadAllLines(_directory[Path.Combine("out", "report.csv")])[1]);
    }

    private void Metrics(string run, double accuracy, double loss, double seconds)
    {
        string folder = _directory[Path.Combine("out", run)];
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "metrics.json"), new JsonObject
        {
            ["test_accuracy"] = accuracy,
            ["test_loss"] = loss,
            ["train_seconds"] = seconds,
        }.ToJsonString());
    }
}
