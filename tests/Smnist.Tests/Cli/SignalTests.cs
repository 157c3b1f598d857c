using System.Diagnostics;
using System.Runtime.InteropServices;
using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>
/// The smnist process itself, stopped as `timeout`, `docker stop`, systemd or a batch scheduler stops it (SIGTERM,
/// SIGHUP), or killed outright: it saves and exits with 128 + the signal, or, killed, leaves no lock behind.
/// </summary>
[Trait("Category", "command")]
public sealed partial class SignalTests : IDisposable
{
    private const int SigHup = 1, SigKill = 9, SigTerm = 15;

    // 2,000 training images in batches of 32 (63 steps an epoch) for 500 epochs: tens of seconds, stopped long before
    // the end. (Five epochs end within a second of the first progress line: too close a race on a loaded machine.)
    private const int LongEpochs = 500, LongSteps = LongEpochs * 63;

    private static readonly string[] Long =
    [
        "--data-dir", CliHarness.DataDir, "--epochs", LongEpochs.ToString(), "--limit-test", "100", "--hidden", "24", "--threads", "1",
    ];

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        // A failed assertion must not leave a smnist process running.
        foreach (Process process in _started)
        {
            if (!process.HasExited)
                process.Kill();
            process.Dispose();
        }
        _directory.Dispose();
    }

    [Trait("Category", "slow")]
    [SkippableTheory]
    [InlineData(SigTerm, 143)]
    [InlineData(SigHup, 129)]
    public void ATerminationSignalSavesAResumableCheckpointAndExitsWithTheConventionalCode(int signal, int exitCode)
    {
        // Under nohup (or any parent that ignores SIGHUP) the child inherits the ignored signal and rightly keeps training.
        Skip.If(IgnoredByThisProcess(signal), $"signal {signal} is ignored in this process, so smnist inherits it ignored (started under nohup?)");
        string run = _directory["run"];
        Process smnist = Start(["train", "--out", run, .. Long]);
        WaitForTraining(smnist);

        Assert.Equal(0, Kill(smnist.Id, signal));
        string output = smnist.StandardOutput.ReadToEnd();
        smnist.WaitForExit();

        Assert.Equal(exitCode, smnist.ExitCode);
        Assert.Contains("interrupted after step", output);
        Assert.Contains("resume with: ", output);
        long step = long.Parse(SafeTensors.Read(Path.Combine(run, "checkpoint.safetensors")).Metadata["adam.step"]);
        Assert.InRange(step, 1, LongSteps - 1);
        Assert.Equal(step + 1, File.ReadAllLines(Path.Combine(run, "loss.csv")).Length);

        var resumed = CliHarness.Succeeds("train", "--resume", run, "--max-steps", (step + 1).ToString());
        Assert.Contains($"resuming at step {step}", resumed.Out);
    }

    [Fact]
    public void ATerminationSignalOutsideTrainingEndsTheProcessAtOnce()
    {
        // A benchmark of a million steps runs for minutes; SIGTERM must not be swallowed by the training handler.
        Process smnist = Start(["bench", "--steps", "1000000", "--threads", "1"]);
        Thread.Sleep(1000);
        Assert.Equal(0, Kill(smnist.Id, SigTerm));
        Assert.True(smnist.WaitForExit(10_000), "bench did not end after SIGTERM");
        Assert.Equal(143, smnist.ExitCode);
    }

    [Fact]
    public void AKilledRunLeavesNoLockAndNoRecordOfAnEarlierRunBehind()
    {
        // The record of a run killed before its first checkpoint, then a new run into the folder, killed too.
        string run = _directory["run"];
        Directory.CreateDirectory(run);
        string[] stale = ["step,epoch,loss", "1,1,9.5", "2,1,9.25"];
        File.WriteAllLines(Path.Combine(run, "loss.csv"), stale);
        Process smnist = Start(["train", "--out", run, .. Long]);
        WaitForTraining(smnist);
        Assert.Equal(0, Kill(smnist.Id, SigKill));
        smnist.WaitForExit();

        string lossCsv = Path.Combine(run, "loss.csv");
        Assert.False(File.Exists(lossCsv) && File.ReadAllLines(lossCsv).SequenceEqual(stale), "the earlier run's loss.csv survived beside the new run's files");
        CliHarness.Succeeds(["train", "--out", run, "--force", "--max-steps", "1", .. Long]);
    }

    private Process Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "smnist.dll"));
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        Process process = Process.Start(start)!;
        _started.Add(process);
        return process;
    }

    /// <summary>Reads stdout up to the first progress line: training has taken its first steps.</summary>
    private static void WaitForTraining(Process smnist)
    {
        while (smnist.StandardOutput.ReadLine() is string line)
        {
            if (line.StartsWith("epoch 1/", StringComparison.Ordinal))
                return;
        }
        Assert.Fail($"smnist ended before training (exit {smnist.ExitCode}): {smnist.StandardError.ReadToEnd()}");
    }

    /// <summary>Whether the signal is set to be ignored here, from the SigIgn mask in /proc/self/status (Linux).</summary>
    private static bool IgnoredByThisProcess(int signal)
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status))
            return false;
        string? mask = File.ReadLines(Status).FirstOrDefault(line => line.StartsWith("SigIgn:", StringComparison.Ordinal));
        return mask is not null && ((Convert.ToUInt64(mask["SigIgn:".Length..].Trim(), 16) >> (signal - 1)) & 1) == 1;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
