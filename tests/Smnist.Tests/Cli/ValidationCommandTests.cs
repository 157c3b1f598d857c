using System.Text.Json;

namespace Smnist.Tests.Cli;

/// <summary>smnist train --validation N --patience K: per-epoch figures on validation, the test set once at the end.</summary>
[Trait("Category", "command")]
public sealed class ValidationCommandTests : IDisposable
{
    private static readonly string[] Small =
    [
        "--data-dir", CliHarness.DataDir, "--limit-train", "300", "--limit-test", "100", "--hidden", "12", "--threads", "1",
    ];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ValidationRunsReportEachEpochOnValidationAndTheTestSetOnceInMetricsJson()
    {
        string run = _directory["run"];
        var outcome = CliHarness.Succeeds(["train", "--out", run, "--epochs", "3", "--validation", "60", "--patience", "2", .. Small]);

        Assert.Contains("240 training, 60 validation and 100 test images", outcome.Out);
        Assert.Equal(3, outcome.Out.Split('\n').Count(line => line.Contains("validation accuracy", StringComparison.Ordinal)));
        Assert.DoesNotContain("test accuracy", string.Join('\n', outcome.Out.Split('\n').Where(line => line.StartsWith("epoch", StringComparison.Ordinal))));
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        JsonElement root = metrics.RootElement;
        Assert.Equal(100, root.GetProperty("test_samples").GetInt32());
        Assert.Equal(60, root.GetProperty("validation_samples").GetInt32());
        int best = root.GetProperty("best_epoch").GetInt32();
        JsonElement[] epochs = root.GetProperty("per_epoch").EnumerateArray().ToArray();
        Assert.Equal(3, epochs.Length);
        Assert.All(epochs, epoch => Assert.False(epoch.TryGetProperty("test_accuracy", out _)));
        double[] losses = epochs.Select(e => e.GetProperty("validation_loss").GetDouble()).ToArray();
        Assert.Equal(losses.Min(), root.GetProperty("validation_loss").GetDouble());
        Assert.Equal(Array.IndexOf(losses, losses.Min()) + 1, best);
        Assert.InRange(root.GetProperty("test_accuracy").GetDouble(), 0, 1);
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(60, config.RootElement.GetProperty("validation").GetInt32());
        Assert.Equal(2, config.RootElement.GetProperty("patience").GetInt32());
    }

    [Fact]
    public void PatienceWithoutValidationIsRefusedInOneLine()
    {
        var outcome = CliHarness.Run(["train", "--out", _directory["run"], "--patience", "2", .. Small]);
        Assert.Equal(1, outcome.Exit);
        Assert.Equal("error: patience counts epochs without a better validation loss; it needs a validation set", outcome.Err.Trim());
    }
}
