using System.Globalization;
using System.Text;
using System.Text.Json;
using Smnist.Data;
using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>
/// One run of <c>smnist train --data --test</c> on generated files: 240 training and 60 test sequences of 10 steps of
/// (value, change), rising (class 0) or falling (class 1) with noise; learnt in a few seconds. The same test
/// sequences are also written as a .ts file, and without labels.
/// </summary>
public sealed class TrainedSequenceRun : IDisposable
{
    public const int Length = 10;

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public TrainedSequenceRun()
    {
        WriteSequences(TrainFile, 240, seed: 1, SequenceFileFormat.JsonLines);
        WriteSequences(TestFile, 60, seed: 2, SequenceFileFormat.JsonLines);
        WriteSequences(TestTsFile, 60, seed: 2, SequenceFileFormat.Ts);
        WriteSequences(UnlabelledFile, 5, seed: 3, SequenceFileFormat.JsonLines, labelled: false);
        Directory = _directory["run"];
        Result = CliHarness.Succeeds("train", "--data", TrainFile, "--test", TestFile, "--out", Directory,
            "--epochs", "5", "--batch-size", "16", "--hidden", "16", "--lr", "1e-2", "--threads", "2");
        Metrics = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Directory, "metrics.json"))).RootElement.Clone();
    }

    public string TrainFile => _directory["train.jsonl"];

    public string TestFile => _directory["test.jsonl"];

    public string TestTsFile => _directory["test.ts"];

    public string UnlabelledFile => _directory["unlabelled.jsonl"];

    public string Directory { get; }

    public string Model => Path.Combine(Directory, "model.safetensors");

    public CliHarness.Outcome Result { get; }

    public JsonElement Metrics { get; }

    public string File(string name) => _directory[name];

    public void Dispose() => _directory.Dispose();

    /// <summary>Rising (class 0) or falling (class 1) sequences of <see cref="Length"/> steps of (value, change).</summary>
    public static void WriteSequences(string path, int count, int seed, SequenceFileFormat format, bool labelled = true)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        if (format == SequenceFileFormat.Ts)
            text.Append("@problemName RisingFalling\n@univariate false\n@dimensions 2\n@equalLength true\n@seriesLength 10\n@classLabel true rising falling\n@data\n");
        for (int n = 0; n < count; n++)
        {
            int label = n % 2;
            double start = random.NextDouble() * 2 - 1, slope = (label == 0 ? 1 : -1) * (0.05 + 0.1 * random.NextDouble());
            var values = new double[Length];
            for (int t = 0; t < Length; t++)
                values[t] = Math.Round(start + slope * t + 0.05 * (random.NextDouble() - 0.5), 3);
            double[] changes = [0, .. values.Zip(values.Skip(1), (a, b) => Math.Round(b - a, 3))];
            if (format == SequenceFileFormat.Ts)
            {
                text.AppendJoin(',', values.Select(Invariant)).Append(':').AppendJoin(',', changes.Select(Invariant)).Append(':').Append(label == 0 ? "rising" : "falling").Append('\n');
                continue;
            }
            string steps = string.Join(",", values.Zip(changes, (x, dx) => $"[{Invariant(x)},{Invariant(dx)}]"));
            text.Append(labelled ? $"{{\"label\":{label},\"steps\":[{steps}]}}\n" : $"{{\"steps\":[{steps}]}}\n");
        }
        System.IO.File.WriteAllText(path, text.ToString());
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}

[Trait("Category", "command")]
public sealed class SequenceFileCommandTests(TrainedSequenceRun run) : IClassFixture<TrainedSequenceRun>
{
    [Fact]
    public void TrainsOnTheFilesAndRecordsThemWithTheModel()
    {
        double accuracy = run.Metrics.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy > 0.9, $"test accuracy {accuracy:P2}\n{run.Result.Out}");
        Assert.Equal(60, run.Metrics.GetProperty("test_samples").GetInt32());
        Assert.Contains("240 training, and 60 test sequences", run.Result.Out);

        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Directory, "config.json")));
        Assert.Equal(Path.GetFullPath(run.TrainFile), config.RootElement.GetProperty("data").GetString());
        Assert.Equal(Path.GetFullPath(run.TestFile), config.RootElement.GetProperty("test").GetString());
        Assert.Equal(2, config.RootElement.GetProperty("classes").GetInt32());

        LoadedModel model = ModelCheckpoint.Load(run.Model);
        Assert.Equal(SequenceView.Custom, model.Sequence.View);
        Assert.Equal((2, 2), (model.Model.Config.InputSize, model.Model.Config.Classes));
    }

    [Fact]
    public void EvalOnTheTestFileGivesTheTrainingRunsFigure()
    {
        using JsonDocument eval = JsonDocument.Parse(CliHarness.Succeeds("eval", "--model", run.Model, "--data", run.TestFile, "--json").Out);
        JsonElement root = eval.RootElement;
        Assert.Equal(run.TestFile, root.GetProperty("data").GetString());
        Assert.Equal(60, root.GetProperty("samples").GetInt32());
        Assert.Equal(run.Metrics.GetProperty("test_accuracy").GetDouble(), root.GetProperty("accuracy").GetDouble());
        Assert.Equal(2, root.GetProperty("confusion").GetArrayLength());

        // The same sequences in a .ts file, with class names, read alike.
        using JsonDocument ts = JsonDocument.Parse(CliHarness.Succeeds("eval", "--model", run.Model, "--data", run.TestTsFile, "--json").Out);
        Assert.Equal(root.GetProperty("accuracy").GetDouble(), ts.RootElement.GetProperty("accuracy").GetDouble());
        Assert.Equal(root.GetProperty("loss").GetDouble(), ts.RootElement.GetProperty("loss").GetDouble(), 6);

        CliHarness.Outcome text = CliHarness.Succeeds("eval", "--model", run.Model, "--data", run.TestFile);
        Assert.Contains($"on 60 sequences of {run.TestFile}", text.Out);
    }

    [Fact]
    public void PredictJsonGivesEverySequencesClassAndProbabilities()
    {
        using JsonDocument predict = JsonDocument.Parse(CliHarness.Succeeds("predict", "--model", run.Model, "--data", run.TestFile, "--json").Out);
        Assert.Equal(run.Model, predict.RootElement.GetProperty("model").GetString());
        JsonElement[] predictions = [.. predict.RootElement.GetProperty("predictions").EnumerateArray()];
        Assert.Equal(60, predictions.Length);
        int correct = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            JsonElement p = predictions[i];
            Assert.Equal(i, p.GetProperty("index").GetInt32());
            double[] probabilities = [.. p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble())];
            Assert.Equal(2, probabilities.Length);
            Assert.Equal(1.0, probabilities.Sum(), 5);
            Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), p.GetProperty("class").GetInt32());
            Assert.False(p.TryGetProperty("steps", out _));
            correct += p.GetProperty("class").GetInt32() == p.GetProperty("label").GetInt32() ? 1 : 0;
        }
        Assert.Equal(run.Metrics.GetProperty("test_accuracy").GetDouble(), correct / 60.0, 9);
    }

    [Fact]
    public void PredictStepsAddsTheProbabilitiesAfterEveryStep()
    {
        using JsonDocument predict = JsonDocument.Parse(CliHarness.Succeeds("predict", "--model", run.Model, "--data", run.UnlabelledFile, "--json", "--steps").Out);
        JsonElement[] predictions = [.. predict.RootElement.GetProperty("predictions").EnumerateArray()];
        Assert.Equal(5, predictions.Length);
        foreach (JsonElement p in predictions)
        {
            Assert.False(p.TryGetProperty("label", out _));
            JsonElement[] steps = [.. p.GetProperty("steps").EnumerateArray()];
            Assert.Equal(TrainedSequenceRun.Length, steps.Length);
            foreach (JsonElement step in steps)
                Assert.Equal(1.0, step.EnumerateArray().Sum(v => v.GetDouble()), 5);
            Assert.Equal(p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble()), steps[^1].EnumerateArray().Select(v => v.GetDouble()));
        }

        CliHarness.Outcome text = CliHarness.Succeeds("predict", "--model", run.Model, "--data", run.UnlabelledFile, "--steps");
        Assert.Contains("sequence 0 (line 1): class ", text.Out);
        Assert.Contains($"  step {TrainedSequenceRun.Length}: 0: ", text.Out);
    }

    [Fact]
    public void PredictingAFileOfAnotherWidthIsOneLine()
    {
        string wide = run.File("wide.jsonl");
        File.WriteAllText(wide, "{\"steps\": [[1, 2, 3]]}\n");
        AssertOneLineError(CliHarness.Run("predict", "--model", run.Model, "--data", wide), $"error: {wide}: its steps have 3 values, the model {run.Model} reads 2");
        AssertOneLineError(CliHarness.Run("eval", "--model", run.Model, "--data", wide), $"error: {wide}: its steps have 3 values, the model {run.Model} reads 2");
    }

    [Fact]
    public void EvalNeedsLabelsAndAModelOfSequences()
    {
        AssertOneLineError(CliHarness.Run("eval", "--model", run.Model, "--data", run.UnlabelledFile), $"error: {run.UnlabelledFile}: has no labels; evaluation needs");
        AssertOneLineError(CliHarness.Run("predict", "--model", "mnist-rows", "--data", run.TestFile), "error: mnist-rows reads images (rows view); --data needs a model trained on sequence files");
    }

    [Theory]
    [InlineData("{\"label\": 0, \"steps\": [[1, 2], [NaN, 1]]}\n", "line 1: NaN at byte")]
    [InlineData("{\"label\": 0, \"steps\": [[1, 2]]}\n{\"label\": 1, \"steps\": [[1, 2, 3]]}\n", "line 2: its steps have 3 values each, those of line 1 have 2")]
    [InlineData("{\"label\": 0, \"steps\": []}\n", "line 1: the sequence is empty")]
    [InlineData("{\"label\": 0.5, \"steps\": [[1, 2]]}\n", "line 1: the label, 0.5, is not an integer class")]
    [InlineData("{\"label\": 0, \"steps\": [[1, 2]]}\n{\"label\": 1, \"steps\": [[1, 2], [3", "line 2: the line ends before its JSON object does (the file ends inside this line: is it truncated?)")]
    public void BadTrainingFilesAreOneLineAndExitOne(string content, string problem)
    {
        string bad = run.File($"bad-{Math.Abs(content.GetHashCode()):x}.jsonl");
        File.WriteAllText(bad, content);
        AssertOneLineError(CliHarness.Run("train", "--data", bad, "--test", run.TestFile, "--out", run.File("bad-run")), $"error: {bad}: {problem}");
    }

    [Fact]
    public void BadTsHeaderAndLabelsBeyondClassesAreOneLine()
    {
        string ts = run.File("bad.ts");
        File.WriteAllText(ts, "@univariate true\n@equalLength true\n@seriesLength 4\n@classLabel true a b\n@data\n1,2,3,4:a\n1,2,3:b\n");
        AssertOneLineError(CliHarness.Run("predict", "--model", run.Model, "--data", ts), $"error: {ts}: line 7: the series has 3 values, the header's @seriesLength says 4");
        AssertOneLineError(CliHarness.Run("train", "--data", run.TrainFile, "--test", run.TestFile, "--classes", "1", "--out", run.File("x")),
            null, exit: Smnist.Cli.Cli.UsageError);
        string three = run.File("three.jsonl");
        File.WriteAllText(three, "{\"label\": 2, \"steps\": [[1, 2]]}\n");
        AssertOneLineError(CliHarness.Run("eval", "--model", run.Model, "--data", three), $"error: {three}: line 1: the label, 2, is not a class in 0..1");
    }

    [Theory]
    [InlineData("--data and --test go together", "train", "--data", "a.jsonl")]
    [InlineData("--data and --test go together", "train", "--test", "a.jsonl")]
    [InlineData("--classes is for --data's sequences", "train", "--classes", "3")]
    [InlineData("--steps is for --data's sequences", "predict", "--index", "1", "--steps")]
    [InlineData("--data classifies a sequence file; give it without image files, --index", "predict", "--data", "a.jsonl", "--index", "1")]
    [InlineData("--data evaluates on a sequence file; --augment-test only apply to the image test set", "eval", "--model", "m", "--data", "a.jsonl", "--augment-test")]
    public void OptionsThatDoNotGoTogetherAreUsageErrors(string message, params string[] args)
    {
        CliHarness.Outcome outcome = CliHarness.Run(args);
        Assert.Equal(Smnist.Cli.Cli.UsageError, outcome.Exit);
        Assert.Contains(message, outcome.Err);
    }

    [Fact]
    public void ARunOnFilesResumesFromTheFilesItRecorded()
    {
        string directory = run.File("resumed");
        CliHarness.Outcome stopped = CliHarness.Succeeds("train", "--data", run.TrainFile, "--test", run.TestFile, "--classes", "3", "--out", directory,
            "--epochs", "2", "--batch-size", "32", "--hidden", "8", "--threads", "1", "--max-steps", "3");
        Assert.Contains("stopped at step 3 of 16", stopped.Out);

        CliHarness.Outcome resumed = CliHarness.Succeeds("train", "--resume", directory);
        Assert.Contains("resuming at step 3", resumed.Out);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "metrics.json")));
        Assert.Equal(2 * 8, metrics.RootElement.GetProperty("steps").GetInt64());
        Assert.Equal(3, ModelCheckpoint.Load(Path.Combine(directory, "model.safetensors")).Model.Config.Classes);
    }

    [Fact]
    public void TheDocumentedCommandsRunOnTheSamples()
    {
        // docs/sequences.md's first sh block, each command as written, with the sample and run folders placed absolutely.
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "smnist.slnx")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no repository root above the tests");
        string docs = File.ReadAllText(Path.Combine(root, "docs", "sequences.md"));
        int start = docs.IndexOf("```sh\n", StringComparison.Ordinal) + 6;
        string block = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)].Replace("\\\n", " ");
        string[] commands = block.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, commands.Length);
        string runs = run.File("docs-runs");
        foreach (string command in commands)
        {
            string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("smnist", words[0]);
            string[] args = [.. words.Skip(1).Select(w => w.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(root, w) : w.Replace("runs/", runs + "/"))];
            CliHarness.Succeeds(args);
        }
    }

    private static void AssertOneLineError(CliHarness.Outcome outcome, string? start, int exit = Smnist.Cli.Cli.Failure)
    {
        Assert.Equal(exit, outcome.Exit);
        string[] lines = outcome.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, outcome.Err);
        if (start is not null)
            Assert.StartsWith(start, lines[0]);
    }
}
