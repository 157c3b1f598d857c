using System.IO.Compression;

namespace Smnist.Tests.Cli;

/// <summary>Every bad input ends with one line on stderr naming the problem, a non-zero exit, and no stack trace.</summary>
[Trait("Category", "command")]
public sealed class CommandLineErrorTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("--epochs must be an integer between 1 and 10000 (got '-1')", "train", "--epochs", "-1")]
    [InlineData("--batch-size must be an integer between 1 and 65536 (got '0')", "train", "--batch-size", "0")]
    [InlineData("--sequence must be one of rows, pixels, permuted, strokes (got 'diagonal')", "train", "--sequence", "diagonal")]
    [InlineData("--lr must be a number between", "train", "--lr", "abc")]
    [InlineData("--recipe must be one of best, notebook, pixels, permuted, strokes (got 'fast')", "train", "--recipe", "fast")]
    [InlineData("--checkpoint-every must be a number between 0 and 1000000 (got '-5')", "train", "--checkpoint-every", "-5")]
    [InlineData("--sequence must be one of rows, pixels, permuted (got 'columns')", "bench", "--sequence", "columns")]
    [InlineData("--augment and --no-augment contradict each other", "train", "--augment", "--no-augment")]
    [InlineData("Unrecognized command or argument '--epoch'", "train", "--epoch", "3")]
    [InlineData("Option '--model' is required", "eval")]
    [InlineData("give either image files, --index K or --data FILE", "predict", "--model", "m.safetensors")]
    [InlineData("--steps must be an integer between 1 and 1000000 (got '0')", "bench", "--steps", "0")]
    [InlineData("no command given", new string[0])]
    [InlineData("--out needs a path, not an empty string", "train", "--out", "")]
    [InlineData("--init needs a path, not an empty string", "train", "--init", "")]
    [InlineData("--model needs a path, not an empty string", "eval", "--model", "")]
    [InlineData("--model needs a path, not an empty string", "predict", "--model", "", "a.png")]
    [InlineData("--limit-train must be an integer between 1 and 2147483647 (got '2147483648')", "train", "--limit-train", "2147483648")]
    public void InvalidCommandLinesAreUsageErrors(string message, params string[] args)
    {
        var outcome = CliHarness.Run(args);
        Assert.Equal(2, outcome.Exit);
        AssertOneLine(outcome.Err, message);
        Assert.Empty(outcome.Out);
    }

    [Fact]
    public void MissingDataDirectory()
    {
        string missing = _directory["nowhere"];
        var outcome = CliHarness.Run("train", "--data-dir", missing, "--out", _directory["run"]);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"data directory {missing} does not exist");
    }

    [Fact]
    public void CorruptDataFile()
    {
        string data = _directory["data"];
        Directory.CreateDirectory(data);
        foreach (string file in Directory.GetFiles(CliHarness.DataDir))
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        string images = Path.Combine(data, "train-images-idx3-ubyte.gz");
        byte[] bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);

        var outcome = CliHarness.Run("train", "--data-dir", data, "--out", _directory["run"]);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "train-images-idx3-ubyte.gz");
        Assert.False(File.Exists(_directory["run/model.safetensors"]));
    }

    [Fact]
    public void CorruptCheckpoint()
    {
        string model = _directory["model.safetensors"];
        File.WriteAllBytes(model, [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        var outcome = CliHarness.Run("eval", "--model", model, "--data-dir", CliHarness.DataDir);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{model}: header length 200 runs past the end of the file");
    }

    [Fact]
    public void MissingCheckpoint()
    {
        string model = _directory["absent.safetensors"];
        var outcome = CliHarness.Run("predict", "--model", model, "--index", "3", "--data-dir", CliHarness.DataDir);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{model}: file not found");
    }

    [Fact]
    public void UnknownShippedModelName()
    {
        var outcome = CliHarness.Run("eval", "--model", "mnist-colums", "--data-dir", CliHarness.DataDir);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "mnist-colums: file not found, and no shipped model has that name (");
        Assert.Contains("mnist-rows", outcome.Err);
    }

    [Fact]
    public void MismatchedCheckpoint()
    {
        // Weights for 16 units, then asked to start a 32-unit model from them.
        string run = _directory["small"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", run, "--hidden", "16", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        var outcome = CliHarness.Run("train", "--data-dir", CliHarness.DataDir, "--out", _directory["big"], "--init",
            Path.Combine(run, "model.safetensors"), "--hidden", "32", "--max-steps", "1");
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "the initial weights are for 1 layer(s) of 16 units");
    }

    [Fact]
    public void UnreadableImage()
    {
        string model = _directory["small/model.safetensors"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", _directory["small"], "--hidden", "8", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        string image = _directory["not-an-image.png"];
        File.WriteAllText(image, "this is text, not a PNG");
        var outcome = CliHarness.Run("predict", "--model", model, image);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{image}: not a readable PNG or JPEG image");

        string blank = _directory["blank.png"];
        CliHarness.WritePng(blank, Enumerable.Repeat((byte)255, 20 * 20 * 3).ToArray(), 20, 20);
        outcome = CliHarness.Run("predict", "--model", model, blank);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{blank}: no digit found");

        string missing = _directory["missing.png"];
        outcome = CliHarness.Run("predict", "--model", model, missing);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{missing}: cannot be read (no such file)");
    }

    [Fact]
    public void IndexPastTheTestSet()
    {
        string run = _directory["small"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", run, "--hidden", "8", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        var outcome = CliHarness.Run("predict", "--model", Path.Combine(run, "model.safetensors"), "--index", "1000", "--data-dir", CliHarness.DataDir);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "--index 1000 is past the end of the test set (1000 images, 0 to 999)");
    }

    [Fact]
    public void ResumeWithoutARun()
    {
        string empty = _directory["empty"];
        Directory.CreateDirectory(empty);
        var outcome = CliHarness.Run("train", "--resume", empty);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{empty}: no run to resume");
    }

    [Fact]
    public void VerboseShowsTheTrace()
    {
        string model = _directory["absent.safetensors"];
        var outcome = CliHarness.Run("eval", "--model", model, "--verbose");
        Assert.Equal(1, outcome.Exit);
        Assert.StartsWith($"error: {model}: file not found", outcome.Err);
        Assert.Contains("   at ", outcome.Err);
    }

    [Fact]
    public void AFolderGivenAsAModelIsNamedAsAFolder()
    {
        string folder = _directory["a-folder"];
        Directory.CreateDirectory(folder);
        var outcome = CliHarness.Run("eval", "--model", folder, "--data-dir", CliHarness.DataDir);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{folder}: is a folder, not a file");
    }

    [Theory]
    [InlineData("eval", "--json")]
    [InlineData("eval")]
    [InlineData("predict", "--json", "--index", "0")]
    public void NonFiniteWeightsAreRefusedAtLoad(params string[] command)
    {
        string run = _directory["small"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", run, "--hidden", "8", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        string model = Path.Combine(run, "model.safetensors");
        Smnist.IO.SafeTensorsFile file = Smnist.IO.SafeTensors.Read(model);
        file.Get("readout.bias").Data[4] = float.NaN;
        Smnist.IO.SafeTensors.Write(model, file.Tensors, file.Metadata);

        var outcome = CliHarness.Run([.. command, "--model", model, "--data-dir", CliHarness.DataDir]);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "tensor 'readout.bias' holds a non-finite value (NaN) at index 4");
        Assert.Empty(outcome.Out);
    }

    [Fact]
    public void AConfigurationThatCannotFitInMemoryIsRefused()
    {
        var outcome = CliHarness.Run("train", "--data-dir", CliHarness.DataDir, "--out", _directory["huge"], "--hidden", "4096", "--layers", "16", "--threads", "64");
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, "training 16 layer(s) of 4096 units on 28 inputs in batches of 32 on 64 threads would need");
        Assert.False(File.Exists(_directory["huge/model.safetensors"]));
    }

    [Fact]
    public void OneBadImageAmongSeveralDoesNotHideTheOthers()
    {
        string model = _directory["small/model.safetensors"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", _directory["small"], "--hidden", "8", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        string good = _directory["good.png"], bad = _directory["bad.png"], other = _directory["other.png"];
        byte[] stroke = Enumerable.Range(0, 20 * 20 * 3).Select(k => (byte)(k / 3 % 20 == 10 ? 0 : 255)).ToArray();
        CliHarness.WritePng(good, stroke, 20, 20);
        File.WriteAllText(bad, "not an image");
        CliHarness.WritePng(other, stroke, 20, 20);

        var text = CliHarness.Run("predict", "--model", model, good, bad, other);
        Assert.Equal(1, text.Exit);
        AssertOneLine(text.Err, $"{bad}: not a readable PNG or JPEG image");
        Assert.Contains($"{good}: ", text.Out);
        Assert.Contains($"{other}: ", text.Out);

        var json = CliHarness.Run("predict", "--model", model, "--json", good, bad, other);
        Assert.Equal(1, json.Exit);
        var parsed = System.Text.Json.Nodes.JsonNode.Parse(json.Out)!;
        Assert.Equal(2, parsed["predictions"]!.AsArray().Count);
        Assert.Equal(bad, (string?)parsed["errors"]![0]!["image"]);
    }

    [Fact]
    public void ATruncatedPngSaysSo()
    {
        string model = _directory["small/model.safetensors"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", _directory["small"], "--hidden", "8", "--max-steps", "1",
            "--limit-train", "32", "--limit-test", "32", "--threads", "1");
        string image = _directory["cut.png"];
        CliHarness.WritePng(image, Enumerable.Range(0, 40 * 40 * 3).Select(k => (byte)k).ToArray(), 40, 40);
        byte[] bytes = File.ReadAllBytes(image);
        File.WriteAllBytes(image, bytes[..(bytes.Length / 2)]);

        var outcome = CliHarness.Run("predict", "--model", model, image);
        Assert.Equal(1, outcome.Exit);
        AssertOneLine(outcome.Err, $"{image}: truncated PNG: chunk 'IDAT' of");
    }

    [Theory]
    [InlineData("runs/20260101T000000Z", "runs/20260101T000000Z")]
    [InlineData("my runs/a", "'my runs/a'")]
    [InlineData("runs/$HOME", "'runs/$HOME'")]
    [InlineData("a;rm -rf x", "'a;rm -rf x'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("runs/*", "'runs/*'")]
    [InlineData("", "''")]
    public void PrintedPathsAreShellQuoted(string path, string word) => Assert.Equal(word, Smnist.Cli.Cli.ShellWord(path));

    [Fact]
    public void EveryMessageIsFoldedOntoOneLineByTheSameRule()
    {
        // The command line, the server and the data download all fold messages with SmnistException.OneLine.
        Assert.Equal("a b c d", SmnistException.OneLine("a\tb\r\n  c\n\nd "));
    }

    private static void AssertOneLine(string stderr, string expected)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{stderr}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }
}
