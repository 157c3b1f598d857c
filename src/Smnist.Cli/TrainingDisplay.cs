using System.Diagnostics;
using System.Globalization;
using Smnist.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Smnist.Cli;

/// <summary>Running figures of the epoch in progress, as tqdm shows them.</summary>
internal sealed class EpochProgress(int epoch, int epochs, int batches, int firstBatch)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private double _lossSum;
    private int _lossCount;
    private long _samples;

    public int Epoch { get; } = epoch;

    public int Epochs { get; } = epochs;

    public int Batches { get; } = batches;

    /// <summary>Batches done, counting those before a resume.</summary>
    public int Done { get; private set; } = firstBatch;

    public void Add(int batch, float loss, int samples)
    {
        lock (_lock)
        {
            Done = batch;
            _lossSum += loss;
            _lossCount++;
            _samples += samples;
        }
    }

    /// <summary>Freezes the clock: a finished epoch's bar stays on screen and must not keep counting time.</summary>
    public void Finish()
    {
        lock (_lock)
            _clock.Stop();
    }

    public (double RunningLoss, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan? Remaining) Snapshot()
    {
        lock (_lock)
        {
            TimeSpan elapsed = _clock.Elapsed;
            double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
            double stepsPerSecond = _lossCount / seconds;
            TimeSpan? remaining = _lossCount == 0 ? null : TimeSpan.FromSeconds((Batches - Done) / stepsPerSecond);
            return (_lossCount == 0 ? double.NaN : _lossSum / _lossCount, _samples / seconds, elapsed, remaining);
        }
    }

    public static string Clock(TimeSpan time) => time.TotalHours >= 1
        ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : time.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}

/// <summary>
/// Shows training as it goes: a Spectre progress bar per epoch on a terminal, plain periodic lines when output is
/// redirected (CI logs, files), where a redrawn bar would be noise.
/// </summary>
internal abstract class TrainingDisplay
{
    protected EpochProgress? Current { get; set; }

    public static TrainingDisplay Create(CliContext context) =>
        context.Interactive ? new BarDisplay(context.Console) : new LineDisplay(context.Output);

    /// <summary>Runs <paramref name="training"/> with the display live.</summary>
    public abstract T Run<T>(Func<T> training);

    public void Step(int epoch, int epochs, int batch, int batches, float loss, int samples)
    {
        if (Current is null || Current.Epoch != epoch)
            Current = StartEpoch(epoch, epochs, batches, batch - 1);
        Current.Add(batch, loss, samples);
        Stepped(Current);
    }

    public abstract void EpochDone(EpochReport report);

    /// <summary>A line of its own (not overwritten by the bar).</summary>
    public abstract void Message(string line);

    protected abstract EpochProgress StartEpoch(int epoch, int epochs, int batches, int firstBatch);

    protected abstract void Stepped(EpochProgress progress);

    /// <summary>The set an epoch was evaluated on (validation when the run has one, else test) and its figures.</summary>
    protected static (string Set, double Accuracy, double Loss) Evaluated(EpochReport report) =>
        double.IsNaN(report.ValidationLoss) ? ("test", report.TestAccuracy, report.TestLoss) : ("validation", report.ValidationAccuracy, report.ValidationLoss);

    protected static string EpochSummary(EpochReport report, int epochs)
    {
        var (set, accuracy, loss) = Evaluated(report);
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {report.Epoch}/{epochs} done in {report.Seconds:F1} s: train loss {report.TrainLoss:F4}, {set} accuracy {accuracy * 100:F2}%, {set} loss {loss:F4}");
    }

    private sealed class LineDisplay(TextWriter output) : TrainingDisplay
    {
        // About ten lines per epoch, and at least one every half minute.
        private static readonly TimeSpan MaxSilence = TimeSpan.FromSeconds(30);
        private readonly Stopwatch _sinceLine = new();
        private int _lastBatch;

        public override T Run<T>(Func<T> training) => training();

        public override void EpochDone(EpochReport report) =>
            output.WriteLine(EpochSummary(report, Current?.Epochs ?? report.Epoch));

        public override void Message(string line) => output.WriteLine(line);

        protected override EpochProgress StartEpoch(int epoch, int epochs, int batches, int firstBatch)
        {
            _lastBatch = firstBatch;
            _sinceLine.Restart();
            return new EpochProgress(epoch, epochs, batches, firstBatch);
        }

        protected override void Stepped(EpochProgress progress)
        {
            int interval = Math.Max(1, progress.Batches / 10);
            if (progress.Done - _lastBatch < interval && _sinceLine.Elapsed < MaxSilence && progress.Done != progress.Batches)
                return;
            _lastBatch = progress.Done;
            _sinceLine.Restart();
            var (loss, rate, elapsed, remaining) = progress.Snapshot();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {progress.Epoch}/{progress.Epochs} step {progress.Done}/{progress.Batches} loss {loss:F4} {rate:F0} samples/s elapsed {EpochProgress.Clock(elapsed)} eta {(remaining is { } r ? EpochProgress.Clock(r) : "?")}"));
        }
    }

    private sealed class BarDisplay(IAnsiConsole console) : TrainingDisplay
    {
        private ProgressContext? _context;
        private readonly List<string> _pending = [];
        private ProgressTask? _task;

        public override T Run<T>(Func<T> training)
        {
            try
            {
                return console.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 20 }, new StatsColumn())
                    .Start(context =>
                    {
                        _context = context;
                        try
                        {
                            return training();
                        }
                        finally
                        {
                            _task?.StopTask();
                            _context = null;
                        }
                    });
            }
            finally
            {
                _pending.ForEach(console.WriteLine);
                _pending.Clear();
            }
        }

        public override void EpochDone(EpochReport report)
        {
            Current?.Finish();
            if (_task is not null)
            {
                _task.Value = _task.MaxValue;
                var (set, accuracy, _) = Evaluated(report);
                _task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {report.Epoch}/{Current?.Epochs}: {set} {accuracy * 100:F2}%");
                _task.StopTask();
            }
        }

        public override void Message(string line)
        {
            // A write inside the live display would be overdrawn by it: hold the line until the display ends.
            if (_context is null)
                console.WriteLine(line);
            else
                _pending.Add(line);
        }

        protected override EpochProgress StartEpoch(int epoch, int epochs, int batches, int firstBatch)
        {
            var progress = new EpochProgress(epoch, epochs, batches, firstBatch);
            _task = _context?.AddTask($"epoch {epoch}/{epochs}", autoStart: true, maxValue: batches);
            if (_task is not null)
            {
                _task.Value = firstBatch;
                _task.Tag = progress;
            }
            return progress;
        }

        protected override void Stepped(EpochProgress progress)
        {
            if (_task is not null)
                _task.Value = progress.Done;
        }
    }

    /// <summary>tqdm's right-hand side: step/total [elapsed&lt;remaining, samples/s] and the running loss.</summary>
    private sealed class StatsColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            if (task.Tag is not EpochProgress progress)
                return Text.Empty;
            var (loss, rate, elapsed, remaining) = progress.Snapshot();
            string eta = task.IsFinished ? "" : $"<{(remaining is { } r ? EpochProgress.Clock(r) : "?")}";
            return new Text(string.Create(CultureInfo.InvariantCulture,
                $"{progress.Done}/{progress.Batches} [{EpochProgress.Clock(elapsed)}{eta}, {rate:F0} samples/s, loss {loss:F4}]"));
        }
    }
}
