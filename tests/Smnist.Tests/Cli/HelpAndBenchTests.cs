using System.Text.Json;

namespace Smnist.Tests.Cli;

public sealed class HelpAndBenchTests
{
    [Fact]
    public void TrainHelpListsEveryOptionWithItsRange()
    {
        var outcome = CliHarness.Succeeds("train", "--help");
        string[] options =
        [
            "--recipe", "--epochs", "--batch-size", "--hidden", "--layers", "--lr", "--schedule", "--forget-bias", "--clip",
            "--weight-decay", "--seed", "--threads", "--augment", "--no-augment", "--augment-test", "--no-shuffle", "--max-steps",
            "--limit-train", "--limit-test", "--sequence", "--dataset", "--data-dir", "--init", "--resume", "--out", "--force",
        ];
        foreach (string option in options)
            Assert.Contains(option, outcome.Out);
        Assert.Contains("<best|seed>", outcome.Out);
        Assert.Contains("<rows|pixels|permuted>", outcome.Out);
        Assert.Contains("[1 to 65536; default: 32]", outcome.Out);
        Assert.Contains("[1 to 10000; recipe: 15 best, 10 seed]", outcome.Out);
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
    public void BenchPrintsSpeed()
    {
        var outcome = CliHarness.Succeeds("bench", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "1");
        Assert.Matches(@"^\d+ samples/s, \d+\.\d\d ms/step", outcome.Out);
    }
}
