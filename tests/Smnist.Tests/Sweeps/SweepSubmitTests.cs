using System.Text.Json.Nodes;
using Smnist.Cli.Sweeps;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary>The sbatch script <c>sweep submit --slurm --dry-run</c> prints, and the sweep command line's own refusals.</summary>
[Trait("Category", "command")]
public sealed class SweepSubmitTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void TheScriptIsAJobArrayOfTheUnfinishedRunsEachASweepTask()
    {
        string sweep = _directory["sweep.json"];
        File.WriteAllText(sweep, """{"name": "w i/d", "out": "out", "grid": {"hidden": [64, 128]}, "seeds": [1, 2, 3]}""");
        foreach (string finished in (string[])["hidden=64,seed=1", "hidden=128,seed=1"])
        {
            Directory.CreateDirectory(_directory[Path.Combine("out", finished)]);
            File.WriteAllText(_directory[Path.Combine("out", finished, "metrics.json")], new JsonObject { ["test_accuracy"] = 0.99 }.ToJsonString());
        }

        CliHarness.Outcome outcome = CliHarness.Succeeds("sweep", "submit", sweep, "--slurm", "--dry-run", "--cpus", "4", "--partition", "cpu", "--time", "1-00:00:00");
        string[] lines = outcome.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#!/bin/bash", lines[0]);
        Assert.Contains("#SBATCH --job-name=smnist-w_i_d", lines);
        Assert.Contains("#SBATCH --array=1-2,4-5", lines);
        Assert.Contains("#SBATCH --cpus-per-task=4", lines);
        Assert.Contains("#SBATCH --partition=cpu", lines);
        Assert.Contains("#SBATCH --time=1-00:00:00", lines);
        Assert.Contains("#SBATCH --signal=B:TERM@120", lines);
        Assert.Contains("#SBATCH --requeue", lines);
        Assert.Contains($"#SBATCH --output={_directory[Path.Combine("out", "slurm")]}/%A_%a.out", lines);
        string exec = lines[^1];
        Assert.StartsWith("exec ", exec);
        Assert.EndsWith($" sweep task {sweep} --index \"$SLURM_ARRAY_TASK_ID\" --threads 4", exec);
        Assert.False(Directory.Exists(_directory[Path.Combine("out", "slurm")]), "--dry-run wrote the script");
    }

    [Fact]
    public void NothingIsSubmittedWhenEveryRunIsFinished()
    {
        string sweep = _directory["sweep.json"];
        File.WriteAllText(sweep, """{"out": "out"}""");
        Directory.CreateDirectory(_directory[Path.Combine("out", "run")]);
        File.WriteAllText(_directory[Path.Combine("out", "run", "metrics.json")], "{}");
        CliHarness.Outcome outcome = CliHarness.Succeeds("sweep", "submit", sweep, "--slurm");
        Assert.Equal("", outcome.Out);
        Assert.Contains("all 1 runs of sweep sweep are finished; nothing to submit", outcome.Err);
    }

    [Theory]
    [InlineData(new[] { 0 }, "0")]
    [InlineData(new[] { 0, 1, 2, 3 }, "0-3")]
    [InlineData(new[] { 1, 3, 4, 5, 9 }, "1,3-5,9")]
    public void ArrayIndicesAreWrittenAsRanges(int[] indices, string expected) => Assert.Equal(expected, SlurmScript.Ranges(indices));

    [Theory]
    [InlineData(new[] { "sweep" }, "error: no sweep command given; use plan, run, task, submit or report (see 'smnist sweep --help')")]
    [InlineData(new[] { "sweep", "submit", "f.json" }, "error: name the scheduler: --slurm (the one supported) (see 'smnist sweep submit --help')")]
    [InlineData(new[] { "sweep", "submit", "f.json", "--slurm", "--partition", "a b" }, "error: --partition must be letters, digits and - _ . : , (got 'a b') (see 'smnist sweep submit --help')")]
    [InlineData(new[] { "sweep", "run", "f.json", "--jobs", "0" }, "error: --jobs must be an integer between 1 and 256 (got '0') (see 'smnist sweep run --help')")]
    [InlineData(new[] { "sweep", "task", "f.json" }, "(see 'smnist sweep task --help')")]
    public void BadSweepCommandLinesAreRefusedWithExit2(string[] args, string expected)
    {
        CliHarness.Outcome outcome = CliHarness.Run(args);
        Assert.Equal(2, outcome.Exit);
        Assert.Contains(expected, outcome.Err);
    }
}
