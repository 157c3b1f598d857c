using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Smnist.IO;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Sweeps;

/// <summary><c>sweep run</c> stopped by SIGTERM (kill, timeout, a service manager) passes it to its runs, which save checkpoints.</summary>
[Trait("Category", "slow")]
public sealed partial class SweepRunSignalTests : IDisposable
{
    private const int SigTerm = 15;

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();
    private Process? _sweep;

    public void Dispose()
    {
        if (_sweep is { HasExited: false })
            _sweep.Kill(entireProcessTree: true);
        _sweep?.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task SigtermStopsTheSweepAndEveryRunSavesACheckpoint()
    {
        // Two runs of 500 epochs of 63 steps, one at a time: stopped long before their end.
        string sweep = _directory["sweep.json"];
        File.WriteAllText(sweep, $$"""
            {"name": "s", "out": "out", "base": {"epochs": 500, "limit_test": 100, "hidden": 24, "data_dir": {{JsonValue.Create(CliHarness.DataDir).ToJsonString()}}}, "seeds": [1, 2]}
            """);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "smnist.dll"), "sweep", "run", sweep])
            start.ArgumentList.Add(arg);
        _sweep = Process.Start(start)!;
        Task<string> output = _sweep.StandardOutput.ReadToEndAsync();
        string log = _directory[Path.Combine("out", "seed=1", "task.log")];
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(log) && File.ReadAllText(log).Contains("epoch 1/500 step")))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2) && !_sweep.HasExited, $"run 0 did not start training: {(File.Exists(log) ? File.ReadAllText(log) : "no task.log")}");
            await Task.Delay(100);
        }

        Assert.Equal(0, Kill(_sweep.Id, SigTerm));
        Assert.True(_sweep.WaitForExit(60_000), "sweep run did not stop after SIGTERM");
        Assert.Equal(143, _sweep.ExitCode);
        string said = await output;
        Assert.Contains("run 0 (seed=1): interrupted, checkpoint saved (checkpoint at step", said);
        Assert.Contains("sweep s: 0 finished, 1 interrupted, 0 failed, 1 not started", said);
        long step = long.Parse(SafeTensors.Read(_directory[Path.Combine("out", "seed=1", "checkpoint.safetensors")]).Metadata["adam.step"]);
        Assert.InRange(step, 1, 500 * 63 - 1);
        Assert.False(Directory.Exists(_directory[Path.Combine("out", "seed=2")]), "a run started after the signal");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
