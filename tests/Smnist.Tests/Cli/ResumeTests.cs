using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>A run stopped early (by --max-steps or Ctrl+C) and resumed ends with the same parameters as one never stopped.</summary>
[Trait("Category", "command")]
public sealed class ResumeTests : IDisposable
{
    // 256 training images in batches of 32: 8 steps per epoch, 16 in all.
    private static readonly string[] Small =
    [
        "--data-dir", CliHarness.DataDir, "--epochs", "2", "--limit-train", "256", "--limit-test", "100",
        "--hidden", "24", "--threads", "1",
    ];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(5)]  // inside the first epoch
    [InlineData(8)]  // at the epoch boundary
    [InlineData(11)] // inside the second epoch
    public void ResumeAfterMaxStepsMatchesAnUninterruptedRun(int stopAt)
    {
        string whole = _directory["whole"], split = _directory["split"];
        CliHarness.Succeeds(["train", "--out", whole, .. Small]);

        var first = CliHarness.Succeeds(["train", "--out", split, "--max-steps", stopAt.ToString(), .. Small]);
        Assert.Contains($"continue with: smnist train --resume {split}", first.Out);
        Assert.Equal(stopAt + 1, File.ReadAllLines(Path.Combine(split, "loss.csv")).Length);

        var second = CliHarness.Succeeds("train", "--resume", split);
        Assert.Contains($"resuming at step {stopAt}", second.Out);

        AssertSameParameters(whole, split);
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "loss.csv")), File.ReadAllLines(Path.Combine(split, "loss.csv")));
    }

    [Fact]
    public void CtrlCSavesACheckpointThatResumesExactly()
    {
        string whole = _directory["whole"], interrupted = _directory["interrupted"];
        CliHarness.Succeeds(["train", "--out", whole, .. Small]);

        // Cancelled before it starts: training stops after its first step, as after a Ctrl+C.
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var stopped = CliHarness.Run(cancel.Token, ["train", "--out", interrupted, .. Small]);
        Assert.Equal(130, stopped.Exit);
        Assert.Contains("interrupted after step 1 of 16", stopped.Out);
        Assert.Contains($"resume with: smnist train --resume {interrupted}", stopped.Out);
        Assert.True(File.Exists(Path.Combine(interrupted, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(interrupted, "checkpoint.safetensors")));

        CliHarness.Succeeds("train", "--resume", interrupted);
        AssertSameParameters(whole, interrupted);
    }

    [Fact]
    public void ACheckpointUnderItsLegacyNameStillResumesExactly()
    {
        string whole = _directory["whole"], split = _directory["split"];
        CliHarness.Succeeds(["train", "--out", whole, .. Small]);
        CliHarness.Succeeds(["train", "--out", split, "--max-steps", "5", .. Small]);
        // As a run of an earlier version left it.
        File.Move(Path.Combine(split, "checkpoint.safetensors"), Path.Combine(split, "optimizer.safetensors"));

        CliHarness.Succeeds("train", "--resume", split);

        AssertSameParameters(whole, split);
        Assert.True(File.Exists(Path.Combine(split, "checkpoint.safetensors")));
        Assert.False(File.Exists(Path.Combine(split, "optimizer.safetensors")));
    }

    [Fact]
    public void ResumeKeepsTheRunsOwnOptions()
    {
        string split = _directory["split"];
        CliHarness.Succeeds(["train", "--out", split, "--max-steps", "3", .. Small]);
        var outcome = CliHarness.Run("train", "--resume", split, "--lr", "0.1", "--hidden", "8");
        Assert.Equal(2, outcome.Exit);
        Assert.Contains("--resume continues a run exactly as it was configured; --hidden, --lr cannot be given with it", outcome.Err);
    }

    [Theory]
    [InlineData("dataset", "5", "'dataset' is not one of mnist, fashion")]
    [InlineData("recipe", "{}", "'recipe' is not a string ({})")]
    [InlineData("data_dir", "[1]", "'data_dir' is not a string ([1])")]
    [InlineData("epochs", "\"two\"", "'epochs' is not a Int32 (\"two\")")]
    // An edited config.json would make the resume train on another data set than the one it says.
    [InlineData("dataset", "\"fashion\"", "'dataset' is \"fashion\" but the run was trained with \"mnist\"; a resumed run keeps its own options")]
    [InlineData("lr", "0.5", "'lr' is 0.5 but the run was trained with 0.002")]
    public void AConfigJsonThatIsNotTheRunsIsRefusedInOneLine(string key, string json, string expected)
    {
        string split = _directory["split"];
        CliHarness.Succeeds(["train", "--out", split, "--max-steps", "3", .. Small]);
        string config = Path.Combine(split, "config.json");
        var edited = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        edited[key] = System.Text.Json.Nodes.JsonNode.Parse(json);
        File.WriteAllText(config, edited.ToJsonString());

        var outcome = CliHarness.Run("train", "--resume", split);

        Assert.Equal(1, outcome.Exit);
        Assert.Single(outcome.Err.Trim().Split('\n'));
        Assert.StartsWith($"error: {config}: ", outcome.Err);
        Assert.Contains(expected, outcome.Err);
    }

    [Fact]
    public void TheResumeHelpListsExactlyTheOptionsAResumeAccepts()
    {
        string help = CliHarness.Succeeds("train", "--help").Out;
        string resumeHelp = string.Join(" ", help[help.IndexOf("--resume <DIR>", StringComparison.Ordinal)..].Split('\n').TakeWhile(line => !line.TrimStart().StartsWith("--checkpoint-every", StringComparison.Ordinal)).Select(line => line.Trim()));
        string[] listed = System.Text.RegularExpressions.Regex.Match(resumeHelp, "only (.*) may be given with it").Groups[1].Value.Split(", ");
        string[] options = System.Text.RegularExpressions.Regex.Matches(help, @"^\s+(--[a-z-]+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).Where(o => o is not "--resume" and not "--help").Distinct().ToArray();
        Assert.Equal(["--max-steps", "--data-dir", "--checkpoint-every", "--threads"], listed);

        string missing = _directory["missing"];
        foreach (string option in options)
        {
            string[] value = option is "--augment" or "--no-augment" or "--augment-test" or "--no-shuffle" or "--force" ? [] : [option == "--recipe" ? "best" : option is "--schedule" ? "constant" : option is "--sequence" ? "rows" : option is "--dataset" ? "mnist" : option is "--data-dir" or "--init" or "--out" ? missing : "1"];
            var outcome = CliHarness.Run(["train", "--resume", missing, option, .. value]);
            // Refused by the parser (exit 2), or accepted and then failing on the missing run (exit 1).
            Assert.True(outcome.Exit == (listed.Contains(option) ? 1 : 2), $"{option}: exit {outcome.Exit}: {outcome.Err}");
        }
    }

    internal static void AssertSameParameters(string expectedRun, string actualRun)
    {
        SafeTensorsFile expected = SafeTensors.Read(Path.Combine(expectedRun, "model.safetensors"));
        SafeTensorsFile actual = SafeTensors.Read(Path.Combine(actualRun, "model.safetensors"));
        Assert.Equal(expected.Tensors.Select(t => t.Name), actual.Tensors.Select(t => t.Name));
        foreach (SafeTensor tensor in expected.Tensors)
            Assert.Equal(tensor.Data, actual.Get(tensor.Name).Data);
    }
}
