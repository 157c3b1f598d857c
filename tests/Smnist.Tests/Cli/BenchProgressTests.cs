using Smnist.Cli;
using Smnist.Training;

namespace Smnist.Tests.Cli;

/// <summary>A long benchmark (a large batch at 784 timesteps takes minutes a step) says where it stands on stderr.</summary>
[Trait("Category", "command")]
public sealed class BenchProgressTests
{
    [Fact]
    public void EveryStepIsReportedInItsPhase()
    {
        var reports = new List<BenchmarkProgress>();
        TrainingBenchmark.Run(batchSize: 2, hidden: 4, steps: 3, threads: 1, warmupSteps: 2, warmupSeconds: 0, progress: new Collect(reports));

        Assert.Equal([1, 2, 1, 2, 3], reports.Select(r => r.Step));
        Assert.Equal([true, true, false, false, false], reports.Select(r => r.WarmingUp));
        Assert.All(reports, r => Assert.Equal(3, r.TimedSteps));
        Assert.All(reports, r => Assert.Equal(r.WarmingUp ? 2 : 3, r.Steps));
        Assert.True(reports[^1].Seconds >= reports[^2].Seconds);
    }

    [Fact]
    public void TheLineGivesThePhaseTheSpeedAndTheTimeLeft()
    {
        Assert.Equal("bench: elapsed 00:12, the first warm-up step is still running", BenchProgressLines.Describe(null, TimeSpan.FromSeconds(12)));
        // 2 of at least 20 warm-up steps in 10 s: 18 + 200 steps left at 5 s each.
        Assert.Equal("bench: warm-up step 2 (at least 20), then 200 timed steps, 5.00 s/step, elapsed 00:12, eta 18:10",
            BenchProgressLines.Describe(new BenchmarkProgress(true, 2, 20, 200, 10), TimeSpan.FromSeconds(12)));
        Assert.Equal("bench: timed step 12/200, 131.00 s/step, elapsed 1:02:00, eta 6:50:28",
            BenchProgressLines.Describe(new BenchmarkProgress(false, 12, 200, 200, 12 * 131), TimeSpan.FromMinutes(62)));
    }

    [Fact]
    public void LinesComeEveryIntervalWhileTheBenchmarkRuns()
    {
        var error = new StringWriter();
        using (var lines = new BenchProgressLines(TextWriter.Synchronized(error), TimeSpan.FromMilliseconds(50)))
            TrainingBenchmark.Run(batchSize: 2, hidden: 4, steps: 5, threads: 1, warmupSteps: 2, warmupSeconds: 0.5, progress: lines);
        string[] printed = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.True(printed.Length >= 3, $"expected a line every 50 ms of a run of at least 0.5 s, got:\n{error}");
        Assert.All(printed, line => Assert.Matches(@"^bench: (elapsed \d\d:\d\d, the first warm-up step is still running|(warm-up step \d+ \(at least 2\), then 5 timed steps|timed step \d/5), [\d.]+ s/step, elapsed \d\d:\d\d, eta \d\d:\d\d)$", line));
        int count = printed.Length;
        Thread.Sleep(200);
        Assert.Equal(count, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // nothing after it ended
    }

    [Fact]
    public void AShortBenchmarkPrintsNoProgress()
    {
        var outcome = CliHarness.Succeeds("bench", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "1", "--json");
        Assert.Empty(outcome.Err);
    }

    private sealed class Collect(List<BenchmarkProgress> reports) : IProgress<BenchmarkProgress>
    {
        public void Report(BenchmarkProgress value) => reports.Add(value);
    }
}
