using System.Text.Json;

namespace Smnist.Tests.Cli;

[Trait("Category", "command")]
public sealed class HelpAndBenchTests
{
    [Fact]
    public void TrainHelpListsEveryOptionWithItsRange()
    {
        var outcome = CliHarness.Succeeds("train", "--help");
        string[] options =
        [
            "--recipe", "--epochs", "--batch-size", "--hidden", "--layers", "--lr", "--schedule", "--forget-bias", "--input-bias", "--clip",
            "--weight-decay", "--seed", "--threads", "--augment", "--no-augment", "--augment-test", "--no-shuffle", "--max-steps",
            "--limit-train", "--limit-test", "--sequence", "--dataset", "--data-dir", "--init", "--resume", "--checkpoint-every", "--out", "--force",
        ];
        foreach (string option in options)
            Assert.Contains(option, outcome.Out);
        Assert.Contains("<best|notebook|pixels|permuted|strokes>", outcome.Out);
        Assert.Contains("<rows|pixels|permuted|strokes>", outcome.Out);
        Assert.Contains("[1 to 65536; default: 32]", outcome.Out);
        Assert.Contains("[1 to 10000; recipe: 15 best, 10 notebook, 14 pixels, 50 permuted, 20 strokes]", outcome.Out);
        Assert.Contains("[-100 to 100; recipe: none best, notebook, permuted and strokes, -5 pixels]", outcome.Out);
    }

    [Fact]
    public void BenchJsonIsOneObject()
    {
        var outcome = CliHarness.Succeeds("bench", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "1", "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        Assert.True(json.RootElement.GetProperty("samples_per_second").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("ms_per_step").GetDouble() > 0);
        Assert.Equal(4, json.RootElement.GetProperty("batch_size").GetInt32());
    }

    [Fact]
    public void BenchJsonReportsTheFractionOfTheMeasuredPeak()
    {
        var outcome = CliHarness.Succeeds("bench", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "2", "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        JsonElement root = json.RootElement;
        double samplesPerSecond = root.GetProperty("samples_per_second").GetDouble();
        double flopsPerSample = root.GetProperty("flops_per_sample").GetDouble();
        double gflops = root.GetProperty("gflops").GetDouble();
        double peak = root.GetProperty("peak_gflops_per_core").GetDouble();
        double fraction = root.GetProperty("fraction_of_peak").GetDouble();
        Assert.Equal(28.0 * (2 * 36 * 32 + 2 * 32 * 8 + 2 * 36 * 32) + 3 * 2 * 8 * 10, flopsPerSample);
        Assert.True(double.IsFinite(peak) && peak > 0, $"peak {peak}");
        Assert.Equal(samplesPerSecond * flopsPerSample / 1e9, gflops, 1e-9);
        Assert.Equal(gflops / (2 * peak), fraction, 1e-12);
    }

    [Fact]
    public void BenchJsonNamesTheSequenceAndLayers()
    {
        var outcome = CliHarness.Succeeds("bench", "--sequence", "permuted", "--layers", "2", "--batch-size", "2", "--hidden", "4", "--steps", "2", "--threads", "2", "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        Assert.Equal("permuted", json.RootElement.GetProperty("sequence").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("layers").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("threads").GetInt32());
        Assert.True(json.RootElement.GetProperty("samples_per_second").GetDouble() > 0);
    }

    [Fact]
    public void BenchPrintsSpeed()
    {
        var outcome = CliHarness.Succeeds("bench", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "1");
        Assert.Matches(@"^\d+ samples/s, \d+\.\d\d ms/step", outcome.Out);
        Assert.Matches(@"\n\d+\.\d GFLOP/s at \d+\.\d MFLOP/sample: \d+\.\d % of peak \(1 × \d+\.\d GFLOP/s per core, measured\)", outcome.Out);
    }

    [Fact]
    public void BenchRaggedComparesRaggedWithPaddedInOneRun()
    {
        var outcome = CliHarness.Succeeds("bench", "--ragged", "16", "--batch-size", "8", "--hidden", "8", "--steps", "2", "--threads", "1", "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        JsonElement root = json.RootElement;
        Assert.Equal(16, root.GetProperty("max_length").GetInt32());
        Assert.Equal(25, root.GetProperty("rounds").GetInt32());
        Assert.True(root.GetProperty("ragged_samples_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("padded_samples_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("speedup").GetDouble() > 0);
    }
}
