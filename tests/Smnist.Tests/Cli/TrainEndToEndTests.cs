using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>
/// One real training run on the committed subset (2,000 training, 1,000 test images), shared by the tests below.
/// One epoch of 2,000 images reaches only about 30-60%, so the run takes six epochs of small batches (about 1,500
/// steps, 64 units): enough to pass 80% with a margin, in about 20 seconds on two cores.
/// </summary>
public sealed class TrainedRun : IDisposable
{
    public static readonly string[] Arguments =
    [
        "--epochs", "6", "--batch-size", "8", "--lr", "3e-3", "--clip", "1", "--hidden", "64", "--threads", "2",
    ];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public TrainedRun()
    {
        Directory = _directory["run"];
        Result = CliHarness.Succeeds(["train", "--data-dir", CliHarness.DataDir, "--out", Directory, .. Arguments]);
        Metrics = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Directory, "metrics.json"))).RootElement.Clone();
    }

    public string Directory { get; }

    public CliHarness.Outcome Result { get; }

    public JsonElement Metrics { get; }

    public string File(string name) => Path.Combine(Directory, name);

    public void Dispose() => _directory.Dispose();
}

[Trait("Category", "command")]
public sealed class TrainEndToEndTests(TrainedRun run) : IClassFixture<TrainedRun>
{
    [Fact]
    public void ReachesClearlyAboveChance()
    {
        double accuracy = run.Metrics.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy > 0.80, $"test accuracy {accuracy:P2}\n{run.Result.Out}");
    }

    [Fact]
    public void WritesEveryFileAndTheyParse()
    {
        // Model and optimizer state load back.
        SafeTensorsFile model = SafeTensors.Read(run.File("model.safetensors"));
        Assert.Equal([64, 92], model.Get("lstm.0.forget.weight").Shape);
        Assert.Equal([10, 64], model.Get("readout.weight").Shape);
        Assert.NotEmpty(SafeTensors.Read(run.File("checkpoint.safetensors")).Tensors);

        // config.json: every option, after the recipe.
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(run.File("config.json")));
        string[] options =
        [
            "recipe", "epochs", "batch_size", "hidden", "layers", "lr", "schedule", "forget_bias", "input_bias", "clip", "weight_decay",
            "seed", "threads", "augment", "augment_test", "shuffle", "max_steps", "limit_train", "limit_test", "sequence",
            "dataset", "data_dir", "init", "out",
        ];
        foreach (string option in options)
            Assert.True(config.RootElement.TryGetProperty(option, out _), $"config.json lacks {option}");
        Assert.Equal("best", config.RootElement.GetProperty("recipe").GetString());
        Assert.Equal("cosine", config.RootElement.GetProperty("schedule").GetString());
        Assert.Equal(1.0, config.RootElement.GetProperty("forget_bias").GetDouble());
        Assert.Equal(JsonValueKind.Null, config.RootElement.GetProperty("input_bias").ValueKind);
        Assert.Equal(8, config.RootElement.GetProperty("batch_size").GetInt32());

        // loss.csv: one line per step, steps 1..N, epochs 1..6.
        string[] lines = File.ReadAllLines(run.File("loss.csv"));
        Assert.Equal("step,epoch,loss", lines[0]);
        long steps = run.Metrics.GetProperty("steps").GetInt64();
        Assert.Equal(6 * 250, steps);
        Assert.Equal(steps, lines.Length - 1);
        for (int i = 1; i < lines.Length; i++)
        {
            string[] fields = lines[i].Split(',');
            Assert.Equal(i, long.Parse(fields[0], CultureInfo.InvariantCulture));
            Assert.Equal((i - 1) / 250 + 1, int.Parse(fields[1], CultureInfo.InvariantCulture));
            Assert.True(float.Parse(fields[2], CultureInfo.InvariantCulture) > 0);
        }

        // metrics.json
        foreach (string key in new[] { "test_accuracy", "test_loss", "epochs", "steps", "train_seconds", "train_samples_per_second", "final_train_loss" })
            Assert.True(run.Metrics.TryGetProperty(key, out _), $"metrics.json lacks {key}");
        Assert.Equal(6, run.Metrics.GetProperty("epochs").GetInt32());
        JsonElement[] perEpoch = run.Metrics.GetProperty("per_epoch").EnumerateArray().ToArray();
        Assert.Equal(6, perEpoch.Length);
        foreach (string key in new[] { "epoch", "train_loss", "test_accuracy", "test_loss", "seconds" })
            Assert.True(perEpoch[0].TryGetProperty(key, out _), $"per_epoch lacks {key}");
        Assert.Equal(run.Metrics.GetProperty("test_accuracy").GetDouble(), perEpoch[^1].GetProperty("test_accuracy").GetDouble());
        Assert.True(perEpoch[^1].GetProperty("train_loss").GetDouble() < perEpoch[0].GetProperty("train_loss").GetDouble());

        // Figures: PNGs with their signature and size, an SVG that is XML; no temporary files left over.
        foreach (var (name, width, height) in new[] { ("loss.png", 900, 500), ("accuracy.png", 900, 500), ("confusion.png", 640, 600) })
        {
            byte[] png = File.ReadAllBytes(run.File(name));
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
            Assert.Equal(width, ReadBigEndian(png, 16));
            Assert.Equal(height, ReadBigEndian(png, 20));
        }
        Assert.Equal("svg", XDocument.Load(run.File("loss.svg")).Root!.Name.LocalName);
        Assert.Empty(Directory.GetFiles(run.Directory, "*.tmp"));
    }

    [Fact]
    public void PrintsProgressAndASummaryTable()
    {
        string output = run.Result.Out;
        Assert.Contains("epoch 1/6 step 25/250", output);
        Assert.Contains("epoch 6/6 done in", output);
        Assert.Contains("test accuracy", output);
        Assert.Contains("samples/s", output);
        Assert.Contains(Path.GetFullPath(run.File("confusion.png")), output);
        Assert.Empty(run.Result.Err);
    }

    [Fact]
    public void EvalReproducesTheReportedAccuracy()
    {
        var outcome = CliHarness.Succeeds("eval", "--model", run.File("model.safetensors"), "--data-dir", CliHarness.DataDir, "--json", "--threads", "2");
        using JsonDocument json = JsonDocument.Parse(outcome.Out); // exactly one JSON object: parsing the whole output succeeds
        Assert.Equal(1000, json.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(run.Metrics.GetProperty("test_accuracy").GetDouble(), json.RootElement.GetProperty("accuracy").GetDouble());
        Assert.Equal(run.Metrics.GetProperty("test_loss").GetDouble(), json.RootElement.GetProperty("loss").GetDouble(), 4);
        Assert.Equal(10, json.RootElement.GetProperty("confusion").GetArrayLength());
        Assert.Equal(10, json.RootElement.GetProperty("per_class_accuracy").GetArrayLength());
    }

    [Fact]
    public void EvalPrintsPerClassAccuracyAndConfusion()
    {
        var outcome = CliHarness.Succeeds("eval", "--model", run.File("model.safetensors"), "--data-dir", CliHarness.DataDir, "--limit-test", "200");
        Assert.Contains("on 200 test images", outcome.Out);
        Assert.Contains("confusion matrix", outcome.Out);
        Assert.Contains("accuracy", outcome.Out);
    }

    [Fact]
    public void RefusesToOverwriteARun()
    {
        DateTime written = File.GetLastWriteTimeUtc(run.File("model.safetensors"));
        var outcome = CliHarness.Run("train", "--data-dir", CliHarness.DataDir, "--out", run.Directory, "--max-steps", "1");
        Assert.Equal(1, outcome.Exit);
        Assert.Contains("already holds a trained model", outcome.Err);
        Assert.Contains("--force", outcome.Err);
        Assert.Single(outcome.Err.TrimEnd().Split('\n'));
        Assert.Equal(written, File.GetLastWriteTimeUtc(run.File("model.safetensors")));
    }

    [Fact]
    public void PredictsATestImageByIndex()
    {
        var outcome = CliHarness.Succeeds("predict", "--model", run.File("model.safetensors"), "--index", "0", "--data-dir", CliHarness.DataDir, "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        JsonElement prediction = json.RootElement.GetProperty("predictions")[0];
        float[] probabilities = prediction.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.Equal(10, probabilities.Length);
        Assert.Equal(1f, probabilities.Sum(), 3);
        Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), prediction.GetProperty("digit").GetInt32());
        Assert.Equal(7, prediction.GetProperty("label").GetInt32());
    }

    [Fact]
    public void PredictsDigitsFromPhotoLikeImageFiles()
    {
        // Test images drawn dark on light, large and off-centre in colour PNGs, as a user's photo would be.
        using var directory = CliHarness.TempDir();
        var (images, labels) = CliHarness.TestImages(10);
        var paths = new List<string>();
        for (int n = 0; n < 10; n++)
        {
            const int width = 150, height = 120;
            var rgb = Enumerable.Repeat((byte)230, width * height * 3).ToArray();
            for (int y = 0; y < 112; y++)
            {
                for (int x = 0; x < 112; x++)
                {
                    byte ink = images[n * 784 + y / 4 * 28 + x / 4];
                    int at = ((y + 4) * width + x + 30) * 3;
                    rgb[at] = (byte)(230 - ink * 200 / 255);
                    rgb[at + 1] = (byte)(230 - ink * 210 / 255);
                    rgb[at + 2] = (byte)(230 - ink * 150 / 255);
                }
            }
            string path = directory[$"digit{n}.png"];
            CliHarness.WritePng(path, rgb, width, height);
            paths.Add(path);
        }

        var outcome = CliHarness.Succeeds(["predict", "--model", run.File("model.safetensors"), "--json", .. paths]);
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        int[] digits = json.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("digit").GetInt32()).ToArray();
        int correct = digits.Zip(labels, (digit, label) => digit == label ? 1 : 0).Sum();
        Assert.True(correct >= 7, $"{correct}/10 correct: predicted {string.Join(",", digits)}, labels {string.Join(",", labels)}");

        var text = CliHarness.Succeeds("predict", "--model", run.File("model.safetensors"), paths[0]);
        Assert.StartsWith($"{paths[0]}: {digits[0]} (", text.Out);
        Assert.Contains("  9: ", text.Out);
    }

    private static int ReadBigEndian(byte[] bytes, int offset) =>
        bytes[offset] << 24 | bytes[offset + 1] << 16 | bytes[offset + 2] << 8 | bytes[offset + 3];
}
