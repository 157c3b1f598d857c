using System.Diagnostics;
using System.Text.Json.Nodes;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary>
/// A sweep submitted to a real Slurm (a one-node cluster on this machine: tools/slurm-local.sh start, as root) as a job
/// array: every task runs, the report agrees with the runs' metrics.json, and a task requeued mid-run — Slurm sends it
/// SIGTERM, smnist saves a checkpoint, the requeued task resumes it — ends with the model of an uninterrupted run.
/// Skipped without a responding Slurm, except under CI=true, where .ci/run starts one and its absence is a failure.
/// </summary>
[Trait("Category", "slow")]
public sealed class SlurmEndToEndTests : IDisposable
{
    // 256 training images in batches of 32: 8 steps an epoch. Two runs of 2 epochs, and two of 150 (1,200 steps, some
    // seconds), long enough to be requeued mid-run after their first checkpoint.
    private const int LongEpochs = 150, StepsPerEpoch = 8;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();
    private string? _job;

    public void Dispose()
    {
        if (_job is not null)
            Command("scancel", _job);
        _directory.Dispose();
    }

    [SkippableFact]
    public void AJobArrayRunsEveryRunAndARequeuedTaskResumesToTheUninterruptedModel()
    {
        RequireSlurm();
        string sweep = _directory["sweep.json"];
        File.WriteAllText(sweep, $$"""
            {"name": "e2e", "out": "out",
             "base": {"limit_train": 256, "limit_test": 100, "hidden": 16, "data_dir": {{JsonValue.Create(CliHarness.DataDir).ToJsonString()}}},
             "grid": {"epochs": [2, {{LongEpochs}}]}, "seeds": [1, 2]}
            """);
        CliHarness.Outcome submitted = CliHarness.Succeeds("sweep", "submit", sweep, "--slurm", "--cpus", "1");
        _job = submitted.Out.Trim();
        Assert.Matches("^[0-9]+$", _job);
        string slurmFolder = _directory[Path.Combine("out", "slurm")];
        Assert.Contains("#SBATCH --array=0-3", File.ReadAllText(Path.Combine(slurmFolder, "sweep.sbatch")));

        // Run 2 (150 epochs, seed 1): requeued once its first epoch's checkpoint is there.
        string requeued = _directory[Path.Combine("out", $"epochs={LongEpochs},seed=1")];
        WaitFor(() => File.Exists(Path.Combine(requeued, "checkpoint.safetensors")), "run 2's first checkpoint");
        Command("scontrol", "requeue", $"{_job}_2");
        // A requeued task waits for a begin time some minutes off; it may start at once here.
        WaitFor(() => Command("squeue", "-h", "-o", "%T", "-j", $"{_job}_2").Contains("PENDING"), "task 2 to be requeued");
        Command("scontrol", "update", $"JobId={_job}_2", "StartTime=now");
        WaitFor(() => Command("squeue", "-h", "-j", _job).Trim().Length == 0, "the job array to end");
        _job = null;

        string output = File.ReadAllText(Path.Combine(slurmFolder, $"{submitted.Out.Trim()}_2.out"));
        Assert.Contains("interrupted after step", output);
        Assert.Contains("resuming at step", output);
        long stoppedAt = long.Parse(output.Split("interrupted after step ")[1].Split(' ')[0]);
        Assert.InRange(stoppedAt, 1, LongEpochs * StepsPerEpoch - 1);
        for (int task = 0; task < 4; task++)
            Assert.True(File.Exists(Path.Combine(slurmFolder, $"{submitted.Out.Trim()}_{task}.out")), $"task {task} left no output");

        // The report, against the runs' own metrics.json.
        JsonNode report = JsonNode.Parse(CliHarness.Succeeds("sweep", "report", sweep, "--json").Out)!;
        Assert.Equal(4, report["runs_finished"]!.GetValue<int>());
        foreach (JsonNode? configuration in report["configurations"]!.AsArray())
        {
            string epochs = configuration!["values"]!["epochs"]!.GetValue<string>();
            double[] accuracies = [.. new[] { 1, 2 }.Select(seed => Metric(_directory[Path.Combine("out", $"epochs={epochs},seed={seed}")], "test_accuracy"))];
            Assert.Equal(2, configuration["finished"]!.GetValue<int>());
            Assert.Equal(2, configuration["total"]!.GetValue<int>());
            Assert.Equal(accuracies.Average(), configuration["test_accuracy"]!["mean"]!.GetValue<double>(), 12);
            // The sample standard deviation of two values is |a − b| / √2.
            Assert.Equal(Math.Abs(accuracies[0] - accuracies[1]) / Math.Sqrt(2), configuration["test_accuracy"]!["std"]!.GetValue<double>(), 12);
        }

        // The requeued run ends where an uninterrupted one does (deterministic for a seed and thread count).
        string whole = _directory["whole"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--limit-train", "256", "--limit-test", "100", "--hidden", "16",
            "--epochs", LongEpochs.ToString(), "--seed", "1", "--threads", "1", "--out", whole);
        ResumeTests.AssertSameParameters(whole, requeued);
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "loss.csv")), File.ReadAllLines(Path.Combine(requeued, "loss.csv")));
    }

    private static double Metric(string run, string key) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")))![key]!.GetValue<double>();

    private static void RequireSlurm()
    {
        string? missing = null;
        try
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(Command("sinfo", "-h", "-o", "%T"), "idle|mix|alloc"))
                missing = "Slurm has no node up";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            missing = $"no responding Slurm ({e.Message})";
        }
        if (missing is null)
            return;
        if (Environment.GetEnvironmentVariable("CI") == "true")
            Assert.Fail($"{missing}; CI starts one with tools/slurm-local.sh start (as root)");
        Skip.If(true, $"{missing}: start a one-node cluster as root with tools/slurm-local.sh start");
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience)
                Assert.Fail($"waited {Patience.TotalMinutes} minutes for {what}");
            Thread.Sleep(250);
        }
    }

    /// <summary>Runs a Slurm command; its stdout, or an exception with its stderr when it fails.</summary>
    private static string Command(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error.Result.Trim()}");
        return output;
    }
}
