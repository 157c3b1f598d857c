using System.Text.Json.Nodes;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary>
/// <c>sweep task</c>, the entry point every scheduler calls, is idempotent: a finished run is skipped, an interrupted
/// one resumed to the result of an uninterrupted run, a failed one recorded as such and run again next time.
/// </summary>
[Trait("Category", "command")]
public sealed class SweepTaskTests : IDisposable
{
    // 256 training images in batches of 32: 8 steps per epoch, 16 in all (as ResumeTests).
    private static readonly string Base =
        $$"""{"epochs": 2, "limit_train": 256, "limit_test": 100, "threads": 1, "data_dir": {{JsonValue.Create(CliHarness.DataDir).ToJsonString()}}}""";

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    private string Write(string grid, string baseJson = "")
    {
        string path = _directory["sweep.json"];
        File.WriteAllText(path, $$"""{"name": "t", "out": "out", "base": {{(baseJson.Length > 0 ? baseJson : Base)}}, "grid": {{grid}}, "seeds": [1, 2]}""");
        return path;
    }

    private string RunFolder(string name) => Path.Combine(_directory["out"], name);

    [Fact]
    public void AFinishedRunIsSkippedAndKeepsItsFiles()
    {
        string sweep = Write("""{"hidden": [12]}""");
        var first = CliHarness.Succeeds("sweep", "task", sweep, "--index", "1");
        Assert.Contains("run 1 of 2 (hidden=12,seed=2): starting: smnist train", first.Out);
        string model = Path.Combine(RunFolder("hidden=12,seed=2"), "model.safetensors");
        byte[] trained = File.ReadAllBytes(model);
        DateTime written = File.GetLastWriteTimeUtc(model);
        Assert.False(Directory.Exists(RunFolder("hidden=12,seed=1")), "task 1 ran another run too");

        var again = CliHarness.Succeeds("sweep", "task", sweep, "--index", "1");
        Assert.Contains("run 1 of 2 (hidden=12,seed=2): finished before (test accuracy", again.Out);
        Assert.Contains("nothing to do", again.Out);
        Assert.Equal(trained, File.ReadAllBytes(model));
        Assert.Equal(written, File.GetLastWriteTimeUtc(model));
    }

    [Fact]
    public void AnInterruptedRunIsResumedToTheUninterruptedResult()
    {
        string sweep = Write("""{"hidden": [12]}""");
        string whole = _directory["whole"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--epochs", "2", "--limit-train", "256", "--limit-test", "100", "--threads", "1",
            "--hidden", "12", "--seed", "1", "--out", whole);

        // Cancelled before it starts: training stops after its first step and saves, as after a SIGTERM.
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        CliHarness.Outcome stopped = CliHarness.Run(cancel.Token, "sweep", "task", sweep, "--index", "0");
        Assert.Equal(130, stopped.Exit);
        Assert.Contains("interrupted after step 1 of 16", stopped.Out);
        var report = JsonNode.Parse(CliHarness.Succeeds("sweep", "report", sweep, "--json").Out)!;
        Assert.Equal("interrupted", report["runs"]![0]!["state"]!.GetValue<string>());
        Assert.Equal("checkpoint at step 1 of 16", report["runs"]![0]!["detail"]!.GetValue<string>());

        var resumed = CliHarness.Succeeds("sweep", "task", sweep, "--index", "0");
        Assert.Contains("run 0 of 2 (hidden=12,seed=1): resuming: smnist train --resume", resumed.Out);
        Assert.Contains("resuming at step 1", resumed.Out);
        ResumeTests.AssertSameParameters(whole, RunFolder("hidden=12,seed=1"));
    }

    [Fact]
    public void AFailedRunIsRecordedListedAndRunAgainByTheNextTask()
    {
        string missing = _directory["no-data"];
        string sweep = Write("""{"hidden": [12]}""", $$"""{"epochs": 1, "limit_train": 64, "limit_test": 10, "data_dir": {{JsonValue.Create(missing).ToJsonString()}}}""");
        CliHarness.Outcome failed = CliHarness.Run("sweep", "task", sweep, "--index", "0");
        Assert.Equal(1, failed.Exit);
        string failure = File.ReadAllText(Path.Combine(RunFolder("hidden=12,seed=1"), "failure.txt"));
        Assert.StartsWith("exit 1: error: ", failure);
        Assert.Contains("no-data", failure);

        var report = JsonNode.Parse(CliHarness.Succeeds("sweep", "report", sweep, "--json").Out)!;
        Assert.Equal(["failed", "not started"], report["runs"]!.AsArray().Select(r => r!["state"]!.GetValue<string>()));
        Assert.Equal(0, report["configurations"]![0]!["finished"]!.GetValue<int>());

        // The data arrives; the next task runs it and the failure record goes.
        Directory.CreateDirectory(missing);
        foreach (string file in Directory.GetFiles(CliHarness.DataDir))
            File.Copy(file, Path.Combine(missing, Path.GetFileName(file)));
        CliHarness.Succeeds("sweep", "task", sweep, "--index", "0");
        Assert.False(File.Exists(Path.Combine(RunFolder("hidden=12,seed=1"), "failure.txt")));
    }

    [Fact]
    public void ARunFolderHoldingAnotherConfigurationIsRefusedAndLeftAlone()
    {
        string sweep = Write("""{"hidden": [12]}""");
        CliHarness.Succeeds("sweep", "task", sweep, "--index", "0");
        string model = Path.Combine(RunFolder("hidden=12,seed=1"), "model.safetensors");
        byte[] trained = File.ReadAllBytes(model);

        // The file is edited afterwards: its run 0 asks for 3 epochs where the folder holds 2.
        Write("""{"hidden": [12]}""", Base.Replace("\"epochs\": 2", "\"epochs\": 3"));
        CliHarness.Outcome refused = CliHarness.Run("sweep", "task", sweep, "--index", "0");
        Assert.Equal(1, refused.Exit);
        Assert.Contains("holds a run with epochs 2, but the sweep asks for 3; move that folder away to run it again", refused.Err);
        Assert.Equal(trained, File.ReadAllBytes(model));
    }

    [Fact]
    public void ARunGoingInAnotherProcessIsLeftToItAndNotRecordedAsFailed()
    {
        string sweep = Write("""{"hidden": [12]}""");
        string folder = RunFolder("hidden=12,seed=1");
        using (Smnist.Training.RunDirectory.Create(folder, overwrite: false))
        {
            CliHarness.Outcome outcome = CliHarness.Run("sweep", "task", sweep, "--index", "0");
            Assert.Equal(1, outcome.Exit);
            Assert.Contains("run 0 of 2 (hidden=12,seed=1) is running in another process", outcome.Err);
            var report = JsonNode.Parse(CliHarness.Succeeds("sweep", "report", sweep, "--json").Out)!;
            Assert.Equal("running", report["runs"]![0]!["state"]!.GetValue<string>());
        }
        Assert.False(File.Exists(Path.Combine(folder, "failure.txt")));
        Assert.Equal("not started", JsonNode.Parse(CliHarness.Succeeds("sweep", "report", sweep, "--json").Out)!["runs"]![0]!["state"]!.GetValue<string>());
    }

    [Fact]
    public void AnIndexPastTheLastRunIsRefused()
    {
        string sweep = Write("""{"hidden": [12]}""");
        CliHarness.Outcome outcome = CliHarness.Run("sweep", "task", sweep, "--index", "2");
        Assert.Equal(1, outcome.Exit);
        Assert.Contains("--index 2 is past the last run", outcome.Err);
        Assert.Contains("(2 runs, 0 to 1)", outcome.Err);
    }

    [Fact]
    public void SweepRunRunsWhatIsLeftAndThenNothing()
    {
        string sweep = Write("""{"hidden": [8, 12]}""");
        CliHarness.Succeeds("sweep", "task", sweep, "--index", "2");

        var run = CliHarness.Succeeds("sweep", "run", sweep, "--jobs", "2");
        Assert.Contains("sweep t: 3 of 4 runs to go, 2 at a time", run.Out);
        Assert.Contains("sweep t: 3 finished, 0 interrupted, 0 failed, 0 not started", run.Out);
        foreach (string folder in (string[])["hidden=8,seed=1", "hidden=8,seed=2", "hidden=12,seed=2"])
            Assert.Contains("starting: ", File.ReadAllText(Path.Combine(RunFolder(folder), "task.log")));

        var again = CliHarness.Succeeds("sweep", "run", sweep);
        Assert.Contains("sweep t: nothing to run (4 of 4 runs finished)", again.Out);
    }
}
