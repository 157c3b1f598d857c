using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Smnist.Cli.Sweeps;

/// <summary>
/// <c>smnist sweep run</c>: the unfinished runs on this machine, K at a time, each a <c>smnist sweep task</c> process
/// with its share of the processors, its output in task.log in its folder. A signal stops the sweep as it stops a
/// run: every run saves a checkpoint, and running the sweep again continues them.
/// </summary>
internal static partial class LocalSweep
{
    private const int SigHup = 1, SigInt = 2, SigTerm = 15;

    /// <summary>How long runs get to stop on their own after Ctrl+C (which the terminal sends them too) before they are sent it.</summary>
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(10);

    public static int Run(CliContext context, Sweep sweep, int jobs)
    {
        var statuses = sweep.Runs.Select(RunStatus.Of).ToList();
        List<SweepRun> pending = [.. sweep.Runs.Where(r => statuses[r.Index].State is not (RunState.Finished or RunState.Running or RunState.OtherConfiguration))];
        foreach (SweepRun left in sweep.Runs.Where(r => statuses[r.Index].State is RunState.Running or RunState.OtherConfiguration))
            context.Output.WriteLine($"run {left.Index} ({left.Folder}): {statuses[left.Index].StateName} ({statuses[left.Index].Detail}); left alone");
        if (pending.Count == 0)
        {
            context.Output.WriteLine($"sweep {sweep.Name}: nothing to run ({statuses.Count(s => s.State == RunState.Finished)} of {sweep.Runs.Count} runs finished)");
            return 0;
        }
        SweepCommand.FetchData(context, sweep, pending.Select(r => r.Index));
        int threads = Math.Max(1, Environment.ProcessorCount / jobs);
        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sweep {sweep.Name}: {pending.Count} of {sweep.Runs.Count} runs to go, {Math.Min(jobs, pending.Count)} at a time with {threads} threads each (unless the file sets threads); each run's output goes to {SweepCommand.TaskLogFileName} in its folder"));

        int stopSignal = 0;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Stop(PosixSignalContext signal)
        {
            // A second signal ends this process at once, as it would end smnist train; the runs still save.
            if (Interlocked.CompareExchange(ref stopSignal, SignalNumber(signal.Signal), 0) != 0)
                return;
            signal.Cancel = true;
            stopped.TrySetResult();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        using CancellationTokenRegistration cancelled = context.Cancel.Register(() =>
        {
            if (Interlocked.CompareExchange(ref stopSignal, SigInt, 0) == 0)
                stopped.TrySetResult();
        });

        var queue = new Queue<SweepRun>(pending);
        var active = new List<Child>();
        int finished = 0, failed = 0, interrupted = 0;
        DateTime? stoppedAt = null;
        bool forwarded = false;
        while (active.Count > 0 || (queue.Count > 0 && !stopped.Task.IsCompleted))
        {
            while (!stopped.Task.IsCompleted && active.Count < jobs && queue.Count > 0)
                active.Add(Child.Start(sweep, queue.Dequeue(), threads));

            if (stopped.Task.IsCompleted)
            {
                stoppedAt ??= DateTime.UtcNow;
                // SIGTERM and SIGHUP came to this process alone (kill, timeout, a service manager): pass them on now.
                // Ctrl+C reached the whole terminal's process group, the runs too; pass it on only to runs it missed.
                bool forward = stopSignal != SigInt || DateTime.UtcNow - stoppedAt >= InterruptGrace;
                if (forward && !forwarded)
                {
                    foreach (Child child in active)
                        child.Signal(stopSignal == SigInt ? SigInt : SigTerm);
                    forwarded = true;
                }
            }

            // Woken by a run's end or a signal; each second while stopping, for the grace period.
            Task[] events = [.. active.Select(c => c.Exited), .. stopped.Task.IsCompleted ? Array.Empty<Task>() : [stopped.Task]];
            Task.WaitAny(events, TimeSpan.FromSeconds(1));
            foreach (Child child in active.Where(c => c.Exited.IsCompleted).ToList())
            {
                active.Remove(child);
                RunStatus status = RunStatus.Of(child.Run);
                string where = $"run {child.Run.Index} ({child.Run.Folder})";
                switch (child.ExitCode)
                {
                    case 0:
                        finished++;
                        context.Output.WriteLine($"{where}: {status.StateName}, {status.Detail}");
                        break;
                    case Cli.Interrupted or Cli.Terminated or Cli.HungUp:
                        interrupted++;
                        context.Output.WriteLine($"{where}: interrupted, checkpoint saved ({status.Detail}); run the sweep again to continue");
                        break;
                    default:
                        failed++;
                        context.Output.WriteLine($"{where}: failed, {status.Detail}; see {Path.Combine(child.Run.Directory, SweepCommand.TaskLogFileName)}");
                        break;
                }
                child.Dispose();
            }
        }

        context.Output.WriteLine($"sweep {sweep.Name}: {finished} finished, {interrupted} interrupted, {failed} failed, {queue.Count} not started; " +
            $"report: {context.Program} sweep report {Cli.ShellWord(sweep.File)}");
        if (stopped.Task.IsCompleted)
            return stopSignal switch { SigTerm => Cli.Terminated, SigHup => Cli.HungUp, _ => Cli.Interrupted };
        if (failed > 0)
            throw new SmnistException($"{failed} of {pending.Count} runs failed; their {SweepCommand.TaskLogFileName} says why");
        return 0;
    }

    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM => SigTerm,
        PosixSignal.SIGHUP => SigHup,
        _ => SigInt,
    };

    /// <summary>One run's <c>smnist sweep task</c> process, its output appended to task.log.</summary>
    private sealed class Child : IDisposable
    {
        private readonly Process _process;
        private readonly StreamWriter _log;

        private Child(SweepRun run, Process process, StreamWriter log, Task exited)
        {
            Run = run;
            _process = process;
            _log = log;
            Exited = exited;
        }

        public SweepRun Run { get; }

        public Task Exited { get; }

        public int ExitCode => _process.ExitCode;

        public static Child Start(Sweep sweep, SweepRun run, int threads)
        {
            Directory.CreateDirectory(run.Directory);
            var log = new StreamWriter(Path.Combine(run.Directory, SweepCommand.TaskLogFileName), append: true) { AutoFlush = true };
            IReadOnlyList<string> program = SweepCommand.SelfCommand();
            var start = new ProcessStartInfo(program[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in (string[])[.. program.Skip(1), "sweep", "task", sweep.File, "--index", run.Index.ToString(CultureInfo.InvariantCulture),
                "--threads", threads.ToString(CultureInfo.InvariantCulture)])
            {
                start.ArgumentList.Add(argument);
            }
            var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, line) => Append(log, line.Data);
            process.ErrorDataReceived += (_, line) => Append(log, line.Data);
            try
            {
                process.Start();
            }
            catch
            {
                log.Dispose();
                process.Dispose();
                throw;
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            // WaitForExitAsync completes once the output has been read to its end too.
            return new Child(run, process, log, process.WaitForExitAsync());
        }

        public void Signal(int signal)
        {
            if (!_process.HasExited && !OperatingSystem.IsWindows())
                _ = Kill(_process.Id, signal);
        }

        public void Dispose()
        {
            _process.Dispose();
            _log.Dispose();
        }

        private static void Append(StreamWriter log, string? line)
        {
            if (line is null)
                return;
            lock (log)
                log.WriteLine(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
