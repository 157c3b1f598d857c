using System.Text.Json;

namespace Smnist.Tests.Cli;

/// <summary>How options resolve over recipes, --init and --force, on runs of a step or two.</summary>
[Trait("Category", "command")]
public sealed class TrainOptionsTests : IDisposable
{
    private static readonly string[] Tiny = ["--data-dir", CliHarness.DataDir, "--limit-train", "64", "--limit-test", "64", "--threads", "1"];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    private JsonElement Config(string run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement.Clone();

    [Fact]
    public void NotebookRecipeIsTheNotebookAndExplicitOptionsOverrideIt()
    {
        string run = _directory["notebook"];
        var outcome = CliHarness.Succeeds(["train", "--recipe", "notebook", "--out", run, "--max-steps", "1", "--hidden", "16", .. Tiny]);
        Assert.DoesNotContain("note:", outcome.Err);
        JsonElement config = Config(run);
        Assert.Equal("notebook", config.GetProperty("recipe").GetString());
        Assert.Equal(10, config.GetProperty("epochs").GetInt32());
        Assert.Equal(1e-3, config.GetProperty("lr").GetDouble(), 6);
        Assert.Equal("constant", config.GetProperty("schedule").GetString());
        Assert.Equal(JsonValueKind.Null, config.GetProperty("forget_bias").ValueKind);
        Assert.True(config.GetProperty("augment").GetBoolean());
        Assert.Equal(16, config.GetProperty("hidden").GetInt32());
        Assert.Equal(1, config.GetProperty("max_steps").GetInt32());

        string best = _directory["best"];
        CliHarness.Succeeds(["train", "--out", best, "--max-steps", "1", "--hidden", "16", "--lr", "0.01", "--no-augment", "--no-shuffle", .. Tiny]);
        config = Config(best);
        Assert.Equal(15, config.GetProperty("epochs").GetInt32());
        Assert.Equal(0.01, config.GetProperty("lr").GetDouble(), 6);
        Assert.Equal("cosine", config.GetProperty("schedule").GetString());
        Assert.False(config.GetProperty("augment").GetBoolean());
        Assert.False(config.GetProperty("shuffle").GetBoolean());
        Assert.Equal("rows", config.GetProperty("sequence").GetString());
    }

    [Fact]
    public void SeedIsStillAcceptedAsTheNotebookRecipesFormerNameWithANote()
    {
        string run = _directory["seed"], notebook = _directory["notebook"];
        var outcome = CliHarness.Succeeds(["train", "--recipe", "seed", "--out", run, "--max-steps", "1", "--hidden", "16", .. Tiny]);
        CliHarness.Succeeds(["train", "--recipe", "notebook", "--out", notebook, "--max-steps", "1", "--hidden", "16", .. Tiny]);

        Assert.Single(outcome.Err.Split('\n'), line => line.StartsWith("note:", StringComparison.Ordinal));
        Assert.Contains("note: --recipe seed is now called --recipe notebook", outcome.Err);
        Assert.Equal("notebook", Config(run).GetProperty("recipe").GetString());
        ResumeTests.AssertSameParameters(notebook, run);
        Assert.DoesNotContain("seed", CliHarness.Succeeds("train", "--help").Out.Split("--recipe")[1].Split('\n')[0]);
    }

    [Theory]
    [InlineData("pixels", 14, 5.0, -5.0, false)]
    [InlineData("permuted", 50, 1.0, null, true)]
    public void PixelRecipesSetTheirViewAndTrainAFewSteps(string recipe, int epochs, double forgetBias, double? inputBias, bool augment)
    {
        string run = _directory[recipe];
        CliHarness.Succeeds(["train", "--recipe", recipe, "--out", run, "--max-steps", "3", "--data-dir", CliHarness.DataDir, "--limit-train", "96", "--limit-test", "32"]);
        JsonElement config = Config(run);
        Assert.Equal(recipe, config.GetProperty("recipe").GetString());
        Assert.Equal(recipe, config.GetProperty("sequence").GetString());
        Assert.Equal(epochs, config.GetProperty("epochs").GetInt32());
        Assert.Equal(32, config.GetProperty("batch_size").GetInt32());
        Assert.Equal(128, config.GetProperty("hidden").GetInt32());
        Assert.Equal(1, config.GetProperty("layers").GetInt32());
        Assert.Equal(1e-3, config.GetProperty("lr").GetDouble(), 6);
        Assert.Equal("cosine", config.GetProperty("schedule").GetString());
        Assert.Equal(forgetBias, config.GetProperty("forget_bias").GetDouble());
        JsonElement input = config.GetProperty("input_bias");
        Assert.Equal(inputBias, input.ValueKind == JsonValueKind.Null ? null : input.GetDouble());
        Assert.Equal(1, config.GetProperty("clip").GetDouble());
        Assert.Equal(augment, config.GetProperty("augment").GetBoolean());

        JsonElement metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))).RootElement;
        Assert.Equal(3, metrics.GetProperty("steps").GetInt32());
        Assert.True(double.IsFinite(metrics.GetProperty("final_train_loss").GetDouble()));
        Assert.Equal(32, metrics.GetProperty("test_samples").GetInt32());
    }

    [Fact]
    public void InitTakesSizesFromTheWeightsAndForceOverwrites()
    {
        string first = _directory["first"];
        CliHarness.Succeeds(["train", "--out", first, "--max-steps", "1", "--hidden", "12", "--layers", "2", .. Tiny]);

        string second = _directory["second"];
        CliHarness.Succeeds(["train", "--out", second, "--max-steps", "1", "--init", Path.Combine(first, "model.safetensors"), .. Tiny]);
        Assert.Equal(12, Config(second).GetProperty("hidden").GetInt32());
        Assert.Equal(2, Config(second).GetProperty("layers").GetInt32());

        // A pixel recipe names its view, which weights trained on rows cannot take.
        var outcome = CliHarness.Run(["train", "--recipe", "pixels", "--out", _directory["third"], "--max-steps", "1", "--init", Path.Combine(first, "model.safetensors"), .. Tiny]);
        Assert.Equal(1, outcome.Exit);
        Assert.Contains("the initial weights were trained on the rows view, not pixels", outcome.Err);

        Assert.Equal(1, CliHarness.Run(["train", "--out", second, "--max-steps", "1", "--hidden", "8", .. Tiny]).Exit);
        CliHarness.Succeeds(["train", "--out", second, "--max-steps", "1", "--hidden", "8", "--force", .. Tiny]);
        Assert.Equal(8, Config(second).GetProperty("hidden").GetInt32());
    }
}
