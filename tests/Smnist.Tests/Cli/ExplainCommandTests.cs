using System.Text.Json;
using Smnist.Cli;
using Smnist.Data;

namespace Smnist.Tests.Cli;

/// <summary>smnist explain, and the shipped model that explain, serve and predict use without --model.</summary>
[Trait("Category", "command")]
public sealed class ExplainCommandTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ATestImageGetsAFigureAndOneLine()
    {
        var outcome = CliHarness.Succeeds("explain", "--index", "0", "--data-dir", CliHarness.DataDir, "--out", _directory["figures"]);
        string png = Path.Combine(_directory["figures"], "explain-test-0.png");
        Assert.Equal($"test image 0 (label 7): 7 (100.0 %), decided at row 17 of 28 -> {png}", outcome.Out.Trim());
        byte[] image = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], image[..4]);
        Assert.True(image.Length > 20_000, $"the figure is only {image.Length} bytes");
        string svg = File.ReadAllText(Path.ChangeExtension(png, ".svg"));
        Assert.Contains("<svg", svg);
        // The shipped mnist-rows is a UR-LSTM: its figure shows the effective forget gate and the refine gate.
        Assert.Contains("effective forget gate g", svg.Replace("&#32;", " "));
        Assert.Contains("refine gate r", svg.Replace("&#32;", " "));
    }

    [Fact]
    public void JsonHasTheApisKeysForEveryImage()
    {
        string first = _directory["first.png"], second = _directory["second.png"];
        (byte[] images, byte[] labels) = CliHarness.TestImages(2);
        CliHarness.WritePng(first, Rgb(images.AsSpan(0, ImageSet.Pixels)), 28, 28);
        CliHarness.WritePng(second, Rgb(images.AsSpan(ImageSet.Pixels, ImageSet.Pixels)), 28, 28);
        var outcome = CliHarness.Succeeds("explain", first, second, "--json", "--out", _directory["figures"]);

        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        Assert.Equal("mnist-rows", json.RootElement.GetProperty("model").GetString());
        JsonElement[] traces = json.RootElement.GetProperty("traces").EnumerateArray().ToArray();
        Assert.Equal(2, traces.Length);
        using JsonDocument predicted = JsonDocument.Parse(CliHarness.Succeeds("predict", first, second, "--json").Out);
        for (int k = 0; k < 2; k++)
        {
            JsonElement trace = traces[k];
            Assert.Equal(labels[k], trace.GetProperty("digit").GetInt32());
            Assert.Equal(predicted.RootElement.GetProperty("predictions")[k].GetProperty("digit").GetInt32(), trace.GetProperty("digit").GetInt32());
            Assert.Equal(10, trace.GetProperty("probabilities").GetArrayLength());
            Assert.InRange(trace.GetProperty("decided_at").GetInt32(), 1, 28);
            Assert.Equal(ImageSet.Pixels, trace.GetProperty("input").GetArrayLength());
            Assert.Equal(28, trace.GetProperty("steps").GetArrayLength());
            foreach (string key in new[] { "forget", "input_gate", "output", "cell" })
                Assert.Equal(28, trace.GetProperty(key).GetArrayLength());
            Assert.True(File.Exists(Path.Combine(_directory["figures"], $"explain-{(k == 0 ? "first" : "second")}.png")));
        }
    }

    [Fact]
    public void TwoImagesOfTheSameNameAreRefusedBeforeAnythingIsWritten()
    {
        Directory.CreateDirectory(_directory["a"]);
        Directory.CreateDirectory(_directory["b"]);
        (byte[] images, _) = CliHarness.TestImages(1);
        foreach (string folder in new[] { "a", "b" })
            CliHarness.WritePng(Path.Combine(_directory[folder], "digit.png"), Rgb(images), 28, 28);
        var outcome = CliHarness.Run("explain", Path.Combine(_directory["a"], "digit.png"), Path.Combine(_directory["b"], "digit.png"), "--out", _directory["figures"]);
        Assert.Equal(1, outcome.Exit);
        Assert.StartsWith("error: two images would both write explain-digit.png", outcome.Err);
        Assert.False(Directory.Exists(_directory["figures"]));
    }

    [Theory]
    [InlineData("give either image files or --index K", "explain")]
    [InlineData("give either image files or --index K", "explain", "x.png", "--index", "1")]
    public void BadCommandLinesAreUsageErrors(string message, params string[] args)
    {
        var outcome = CliHarness.Run(args);
        Assert.Equal(2, outcome.Exit);
        Assert.Contains(message, outcome.Err);
        Assert.Single(outcome.Err.Trim().Split('\n'));
    }

    [Fact]
    public void PredictWithoutAModelUsesTheEmbeddedOne()
    {
        // The tests run in their bin folder, which has no models/: the model comes from the assembly.
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "models")));
        var outcome = CliHarness.Succeeds("predict", "--index", "0", "--data-dir", CliHarness.DataDir, "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        Assert.Equal("mnist-rows", json.RootElement.GetProperty("model").GetString());
        Assert.Equal(7, json.RootElement.GetProperty("predictions")[0].GetProperty("digit").GetInt32());
    }

    [Trait("Category", "slow")]
    [Theory]
    [InlineData("mnist-rows", 0.99)]
    [InlineData("mnist-pixels", 0.98)]
    [InlineData("mnist-permuted", 0.93)]
    [InlineData("mnist-strokes", 0.98)]
    public void EachShippedModelScoresOnTheCommittedTestSubset(string name, double atLeast)
    {
        var byName = CliHarness.Succeeds("eval", "--model", name, "--data-dir", CliHarness.DataDir, "--json");
        var byFile = CliHarness.Succeeds("eval", "--model", ShippedModelPath(name), "--data-dir", CliHarness.DataDir, "--json");
        using JsonDocument named = JsonDocument.Parse(byName.Out), file = JsonDocument.Parse(byFile.Out);
        Assert.Equal(name, named.RootElement.GetProperty("model").GetString());
        double accuracy = named.RootElement.GetProperty("accuracy").GetDouble();
        Assert.Equal(file.RootElement.GetProperty("accuracy").GetDouble(), accuracy);
        Assert.True(accuracy >= atLeast, byName.Out);
    }

    [Fact]
    public void TheCommandEmbedsEveryModelInTheModelsFolder()
    {
        string folder = Path.GetDirectoryName(ShippedModelPath(ShippedModels.DefaultName))!;
        string[] files = Directory.GetFiles(folder, "*.safetensors").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(files, ShippedModels.Names);
    }

    /// <summary>The repository's models/NAME.safetensors, which the command embeds.</summary>
    private static string ShippedModelPath(string name)
    {
        string? folder = AppContext.BaseDirectory;
        while (folder is not null && !File.Exists(Path.Combine(folder, "smnist.slnx")))
            folder = Path.GetDirectoryName(folder);
        return Path.Combine(folder ?? throw new InvalidOperationException("the repository root was not found"), "models", name + ".safetensors");
    }

    private static byte[] Rgb(ReadOnlySpan<byte> grey)
    {
        var rgb = new byte[grey.Length * 3];
        for (int i = 0; i < grey.Length; i++)
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
        return rgb;
    }
}
