using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>
/// A run folder never mixes two saves or two runs: the checkpoint is one unit, loss.csv and the results always
/// agree with it, a save cut short is recovered, and a second run into the same folder is refused.
/// </summary>
[Trait("Category", "command")]
public sealed class RunFolderTests : IDisposable
{
    // 256 training images in batches of 32: 8 steps per epoch, 16 in all.
    private static readonly string[] Small =
    [
        "--data-dir", CliHarness.DataDir, "--epochs", "2", "--limit-train", "256", "--limit-test", "100",
        "--hidden", "24", "--threads", "1",
    ];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ASaveCutBetweenItsTwoRenamesResumesExactly()
    {
        string whole = _directory["whole"], split = _directory["split"];
        CliHarness.Succeeds(["train", "--out", whole, .. Small]);

        // The save at step 5, then the one at step 11 cut after its checkpoint was renamed into place: its
        // model.safetensors is still step 5's, and loss.csv already holds step 11's record.
        CliHarness.Succeeds(["train", "--out", split, "--max-steps", "5", .. Small]);
        byte[] modelAtStep5 = File.ReadAllBytes(Path.Combine(split, "model.safetensors"));
        CliHarness.Succeeds("train", "--resume", split, "--max-steps", "11");
        File.WriteAllBytes(Path.Combine(split, "model.safetensors"), modelAtStep5);

        var resumed = CliHarness.Succeeds("train", "--resume", split);

        Assert.Contains("resuming at step 11", resumed.Out);
        ResumeTests.AssertSameParameters(whole, split);
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "loss.csv")), File.ReadAllLines(Path.Combine(split, "loss.csv")));
    }

    [Fact]
    public void ResumeBringsTheModelFileLevelWithTheCheckpointBeforeTraining()
    {
        string run = _directory["run"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "3", .. Small]);
        byte[] modelAtStep3 = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        CliHarness.Succeeds("train", "--resume", run, "--max-steps", "6");
        File.WriteAllBytes(Path.Combine(run, "model.safetensors"), modelAtStep3);

        // Stopped by Ctrl+C at once: the step taken is saved, and nothing in the folder is left at step 3.
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var stopped = CliHarness.Run(cancel.Token, "train", "--resume", run);

        Assert.Equal(130, stopped.Exit);
        Assert.Equal("7", SafeTensors.Read(Path.Combine(run, "model.safetensors")).Metadata[ModelCheckpoint.StepKey]);
        Assert.Equal("7", SafeTensors.Read(Path.Combine(run, "checkpoint.safetensors")).Metadata["adam.step"]);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(run, "loss.csv")).Length);
    }

    [Fact]
    public void ALossRecordShorterThanTheCheckpointIsRefused()
    {
        string run = _directory["run"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "5", .. Small]);
        string lossCsv = Path.Combine(run, "loss.csv");
        File.WriteAllLines(lossCsv, File.ReadAllLines(lossCsv)[..^2]);

        var outcome = CliHarness.Run("train", "--resume", run);

        Assert.Equal(1, outcome.Exit);
        Assert.Contains("holds 3 steps but the checkpoint is at step 5", outcome.Err);
    }

    [Fact]
    public void TemporaryFilesOfAKilledSaveAreDeletedWhenTheRunContinues()
    {
        string run = _directory["run"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "3", .. Small]);
        string leftover = Path.Combine(run, $".model.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(leftover, new byte[100]);
        string unrelated = Path.Combine(run, ".notes.tmp");
        File.WriteAllText(unrelated, "mine");

        CliHarness.Succeeds("train", "--resume", run, "--max-steps", "4");

        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(unrelated));
    }

    [Fact]
    public void AFailedWriteLeavesNoTemporaryFile()
    {
        string target = _directory["file.bin"];
        var error = Assert.Throws<SmnistException>(() => AtomicFile.Write(target, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException($"No space left on device : '{_directory.Path}/.file.bin.0123.tmp'");
        }));
        Assert.Equal($"{target}: cannot be written (No space left on device); the previous version, if any, is kept", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory.Path));
    }

    [Fact]
    public void ASecondRunIntoAFolderInUseIsRefusedNamingTheHolder()
    {
        string run = _directory["run"];
        using (RunLock.Acquire(run))
        {
            var second = CliHarness.Run(["train", "--out", run, .. Small]);
            Assert.Equal(1, second.Exit);
            Assert.Contains($"{run} is in use by another smnist train (pid {Environment.ProcessId} on", second.Err);
            Assert.False(File.Exists(Path.Combine(run, "config.json")));
        }
        // Released: the folder is free again.
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "1", .. Small]);
    }

    [Fact]
    public void AStaleLockFileDoesNotBlock()
    {
        string run = _directory["run"];
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, RunLock.FileName), "");
        File.WriteAllText(Path.Combine(run, RunLock.HolderFileName), "pid 1 on elsewhere, since 2020-01-01 00:00:00 UTC\n");

        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "1", .. Small]);
    }

    [Fact]
    public void ForceInterruptedEarlyLeavesNoResultsOfTheOldRun()
    {
        string run = _directory["run"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "2", .. Small]);
        Assert.True(File.Exists(Path.Combine(run, "metrics.json")));

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var stopped = CliHarness.Run(cancel.Token, ["train", "--out", run, "--force", "--seed", "7", .. Small]);

        Assert.Equal(130, stopped.Exit);
        Assert.False(File.Exists(Path.Combine(run, "metrics.json")));
        Assert.False(File.Exists(Path.Combine(run, "accuracy.png")));
        Assert.False(File.Exists(Path.Combine(run, "confusion.png")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "loss.csv")).Length);
    }

    [Fact]
    public void ResumeKeepsTheRecordedThreadCountAndWarnsWhenOverridden()
    {
        string run = _directory["run"];
        string[] options = [.. Small[..^2], "--threads", "0"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "2", .. options]);
        string config = File.ReadAllText(Path.Combine(run, "config.json"));
        Assert.Contains($"\"threads\": {Environment.ProcessorCount}", config);

        int other = Environment.ProcessorCount + 1;
        var resumed = CliHarness.Succeeds("train", "--resume", run, "--max-steps", "3", "--threads", other.ToString());

        Assert.Contains($"the run was trained on {Environment.ProcessorCount} threads; on {other} its result will differ", resumed.Err);
        Assert.Equal(config, File.ReadAllText(Path.Combine(run, "config.json")));
    }

    [Fact]
    public void ARunFolderOfTheOldLayoutIsRefusedForResumeInOneLine()
    {
        string run = _directory["run"];
        CliHarness.Succeeds(["train", "--out", run, "--max-steps", "2", .. Small]);
        string path = Path.Combine(run, "checkpoint.safetensors");
        SafeTensorsFile file = SafeTensors.Read(path);
        SafeTensors.Write(path, file.Tensors.Where(t => t.Name != "weights").ToList(),
            file.Metadata.Where(m => m.Key != RunCheckpoint.FormatKey).ToDictionary());

        var outcome = CliHarness.Run("train", "--resume", run);

        Assert.Equal(1, outcome.Exit);
        Assert.Contains("written by an older smnist", outcome.Err);
        Assert.Single(outcome.Err.Trim().Split('\n'));
    }
}
