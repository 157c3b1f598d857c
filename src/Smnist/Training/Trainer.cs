using System.Diagnostics;
using System.Globalization;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>One training step done: its 1-based number, epoch and batch, and the batch's mean loss.</summary>
public readonly record struct StepReport(long Step, int Epoch, int Batch, int BatchesPerEpoch, double Loss, int Samples, float LearningRate);

/// <summary>
/// One epoch done (1-based): its mean training loss, its evaluation and its wall time. Without a validation set the
/// evaluation is on the test set (the notebook's protocol); with one it is on the validation set, and the test
/// figures are NaN (the test set is read once, at the end). A figure a run has no set for is NaN.
/// </summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double TestAccuracy, double TestLoss, double Seconds,
    double ValidationAccuracy = double.NaN, double ValidationLoss = double.NaN);

/// <summary>Training produced a non-finite loss or gradient; the weights are still those of the step before.</summary>
public sealed class TrainingDivergedException(long step, double loss)
    : SmnistException($"training diverged at step {step} (loss {loss.ToString(CultureInfo.InvariantCulture)}, or a non-finite gradient); stopped before updating the weights")
{
    /// <summary>The step (1-based) whose loss or gradient was not finite.</summary>
    public long Step { get; } = step;
}

/// <summary>How a run ended, and the final test evaluation when it finished.</summary>
public sealed record TrainingResult(bool Completed, EvaluationResult? Test);

/// <summary>
/// The notebook's training loop: for each epoch, for each shuffled, augmented batch, forward, cross-entropy,
/// backpropagation through time, optional clipping, an Adam step; then the test accuracy (or, with a validation
/// set, the validation figures, keeping the best epoch's weights). Every random draw comes from the seed and the
/// position in the run, so a run saved with <see cref="SaveCheckpoint"/> and continued with
/// <see cref="Resume(ResumableRun, ImageSet, ImageSet, ResumeChanges?)"/> gives the same parameters as one that was never interrupted.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly ISequenceSource? _test;
    private readonly ISequenceSource? _validation;
    private readonly BatchLoader _trainLoader;
    private readonly BatchRunner _runner;
    private readonly Adam _adam;
    private readonly List<EpochReport> _history = [];
    private readonly float[]? _bestParameters; // (P) the weights of epoch BestEpoch, with a validation set
    private int _epoch;             // 0-based epoch in progress; _epoch * BatchesPerEpoch + _batchInEpoch is always Adam's step
    private int _batchInEpoch;      // next batch of that epoch
    private double _epochLossSum;   // over the _batchInEpoch steps of the epoch in progress

    /// <summary>
    /// A run on MNIST-style images: <paramref name="options"/> also choose the sequence view, the augmentation, the
    /// limits on both sets and the validation images held out of <paramref name="train"/>.
    /// </summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="train">Training images.</param>
    /// <param name="test">Test images, evaluated after every epoch (or, with a validation set, once at the end).</param>
    /// <param name="initialWeights">Weights to start from (their sizes and view must match the options), or null for a fresh model.</param>
    public Trainer(TrainingOptions options, ImageSet train, ImageSet test, LoadedModel? initialWeights = null)
        : this(options, ImageSources(options, train, test, initialWeights), initialWeights)
    {
    }

    /// <summary>
    /// A run on any labelled sequences: the model reads <paramref name="train"/>'s features and predicts its
    /// classes. Of <paramref name="options"/>, the image settings (<see cref="TrainingOptions.View"/>,
    /// <see cref="TrainingOptions.Dataset"/>, augmentation and the set limits) do not apply
    /// (<see cref="TrainingOverrides.OverForSequences"/> makes such options from a recipe).
    /// </summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="train">Training examples.</param>
    /// <param name="test">Examples evaluated after every epoch (or, with a validation set, once at the end), or null for none.</param>
    /// <param name="initialWeights">Weights to start from (their sizes must match), or null for a fresh model.</param>
    /// <param name="validation">
    /// Examples to validate on after every epoch, or null: then <see cref="TrainingOptions.Validation"/>, when set,
    /// holds that many of <paramref name="train"/> out instead.
    /// </param>
    public Trainer(TrainingOptions options, ISequenceSource train, ISequenceSource? test = null, LoadedModel? initialWeights = null, ISequenceSource? validation = null)
        : this(options, SequenceSources(options, train, test, validation), initialWeights)
    {
    }

    private Trainer(TrainingOptions options, Sources sources, LoadedModel? initialWeights)
    {
        options.Validate();
        // The thread count is part of a run's trajectory: resolved once, so a resume on another machine keeps it.
        // The view recorded is the one the model reads (custom for a run on sequences), as config.json shows it.
        Options = options = options with { Threads = options.EffectiveThreads, View = sources.Sequence.View };
        Sequence = sources.Sequence;
        ISequenceSource train = sources.Train;
        if (options.Patience is not null && sources.Validation is null)
            throw new SmnistException("patience counts epochs without a better validation loss; it needs a validation set");
        var config = new ModelConfig(train.Features, options.Hidden, options.Layers, train.Classes) { RefineGate = options.RefineGate };
        if (initialWeights is not null && initialWeights.Model.Config != config)
        {
            ModelConfig given = initialWeights.Model.Config;
            throw new SmnistException($"the initial weights are for {Describe(given)} and {given.Classes} classes, the options ask for {Describe(config)} and {config.Classes} classes");
        }
        // Weights, Adam's two moments, the best epoch's weights with a validation set, and the workers' buffers,
        // counted in 64-bit arithmetic before any of them is allocated.
        int batchRows = Math.Min(options.BatchSize, Math.Max(1, train.Count));
        int weightCopies = sources.Validation is null ? 3 : 4;
        MemoryBudget.Require(weightCopies * sizeof(float) * config.ParameterCount + BatchRunner.EstimateBytes(config, train.Steps, batchRows, options.Threads),
            $"training {Describe(config)} in batches of {batchRows} on {options.Threads} threads");
        config.Validate();
        Model = initialWeights?.Model ?? SequenceClassifier<float>.Initialize(config, options.Seed, options.ForgetBias, options.InputBias, options.GateInit, train.Steps);

        _test = sources.Test;
        _validation = sources.Validation;
        _bestParameters = _validation is null ? null : new float[Model.Parameters.Length];
        _trainLoader = new BatchLoader(train, options.BatchSize, options.Shuffle, options.Seed);
        _runner = new BatchRunner(Model, train.Steps, _trainLoader.BatchSize, options.EffectiveThreads);
        _adam = new Adam(Model.Layout.Count, new AdamSettings(WeightDecay: options.WeightDecay));
        long scheduled = (long)options.Epochs * _trainLoader.BatchesPerEpoch;
        TotalSteps = Math.Min(scheduled, options.MaxSteps ?? scheduled);
        ScheduledSteps = scheduled;
    }

    /// <summary>What a run reads: its training, validation and test sources, and the view saved with the model.</summary>
    private sealed record Sources(ISequenceSource Train, ISequenceSource? Validation, ISequenceSource? Test, SequenceLayout Sequence);

    private static Sources ImageSources(TrainingOptions options, ImageSet train, ImageSet test, LoadedModel? initialWeights)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options.Validate();
        SequenceLayout sequence = initialWeights?.Sequence ?? SequenceLayout.Create(options.View, unchecked((int)options.Seed));
        if (sequence.View != options.View)
            throw new SmnistException($"the initial weights were trained on the {initialWeights!.Sequence.Name} view, not {SequenceLayout.NameOf(options.View)}");
        var (trainSource, validation, testSource) = MnistSource.ForRun(train, test, sequence,
            options.LimitTrain, options.LimitTest, options.Augment, options.AugmentTest, options.Validation, options.Seed);
        return new Sources(trainSource, validation, testSource, sequence);
    }

    private static Sources SequenceSources(TrainingOptions options, ISequenceSource train, ISequenceSource? test, ISequenceSource? validation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
            throw new SmnistException("the training source is empty; there is nothing to train on");
        foreach (var (name, other) in (ReadOnlySpan<(string, ISequenceSource?)>)[("test", test), ("validation", validation)])
        {
            if (other is not null && (other.Features != train.Features || other.Classes != train.Classes))
                throw new SmnistException($"the {name} source has {other.Features} features and {other.Classes} classes, the training source {train.Features} and {train.Classes}");
        }
        if (options.Validation is int held)
        {
            if (validation is not null)
                throw new SmnistException("give either a validation source or a number of training examples to hold out for validation, not both");
            (train, validation) = SubsetSource.HoldOut(train, train, held, options.Seed);
        }
        return new Sources(train, validation, test, SequenceLayout.Custom(train.Steps, train.Features));
    }

    /// <summary>The run's settings, with <see cref="TrainingOptions.Threads"/> resolved to a count.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The model being trained; its parameters change with every step.</summary>
    public SequenceClassifier<float> Model { get; }

    /// <summary>How the model reads its input; saved with it.</summary>
    public SequenceLayout Sequence { get; }

    /// <summary>Training steps taken so far.</summary>
    public long Step => _adam.Step;

    /// <summary>Steps this run will take: all epochs, or <see cref="TrainingOptions.MaxSteps"/> if fewer.</summary>
    public long TotalSteps { get; }

    /// <summary>Steps of all epochs: the horizon of the learning-rate schedule, which a step limit does not shorten.</summary>
    public long ScheduledSteps { get; }

    /// <summary>Steps per epoch: the training examples in batches, the last one possibly smaller.</summary>
    public int BatchesPerEpoch => _trainLoader.BatchesPerEpoch;

    /// <summary>Training examples (those held out for validation excluded).</summary>
    public int TrainCount => _trainLoader.Count;

    /// <summary>Test examples (0 without a test source).</summary>
    public int TestCount => _test?.Count ?? 0;

    /// <summary>Validation examples (0 without a validation set).</summary>
    public int ValidationCount => _validation?.Count ?? 0;

    /// <summary>With a validation set: the finished epoch (from 1) with the lowest validation loss, whose weights are kept; else null.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>
    /// True once <see cref="TrainingOptions.Patience"/> epochs in a row have not lowered the best validation loss:
    /// the run is over before its last epoch.
    /// </summary>
    public bool StoppedEarly => Options.Patience is int patience && BestEpoch is int best && _history.Count - best >= patience;

    /// <summary>Seconds spent in training steps (waiting for data included, evaluation excluded), over all sessions of the run.</summary>
    public double TrainSeconds { get; private set; }

    /// <summary>Training examples processed: whole epochs, then full batches of the epoch in progress.</summary>
    public long SamplesTrained
    {
        get
        {
            long epochs = Step / BatchesPerEpoch, batches = Step % BatchesPerEpoch;
            return epochs * TrainCount + Math.Min(batches * Options.BatchSize, TrainCount);
        }
    }

    /// <summary>Training speed over all sessions of the run: <see cref="SamplesTrained"/> per second of <see cref="TrainSeconds"/>.</summary>
    public double SamplesPerSecond => SamplesTrained / Math.Max(TrainSeconds, 1e-9);

    /// <summary>The finished epochs, earlier sessions of a resumed run included.</summary>
    public IReadOnlyList<EpochReport> History => _history;

    /// <summary>Raised on the training thread after every step.</summary>
    public event Action<StepReport>? StepCompleted;

    /// <summary>Raised after every epoch and its evaluation: a good moment for <see cref="SaveCheckpoint"/>.</summary>
    public event Action<EpochReport>? EpochCompleted;

    /// <summary>
    /// Time between checkpoints within an epoch; null for none. The clock restarts after every
    /// <see cref="EpochCompleted"/> (whose handlers save one), so with an interval longer than an epoch no
    /// checkpoint falls within epochs.
    /// </summary>
    public TimeSpan? CheckpointInterval { get; set; }

    /// <summary>
    /// Raised after a step, between steps of an epoch, once <see cref="CheckpointInterval"/> has passed since the last
    /// checkpoint: the trainer is in a resumable state, save it with <see cref="SaveCheckpoint"/>. Its time does not
    /// count as training time.
    /// </summary>
    public event Action? CheckpointDue;

    /// <summary>Whether the run is over: its last epoch or step limit reached, or stopped early by <see cref="TrainingOptions.Patience"/>.</summary>
    private bool Finished => _epoch >= Options.Epochs || Step >= TotalSteps || StoppedEarly;

    /// <summary>
    /// Trains until the last epoch, the step limit or an early stop, or until <paramref name="cancel"/> fires
    /// (checked after each step). A run that ends with a validation set (not at a step limit, which a resume may
    /// continue) ends with its best epoch's weights restored. The result's test figures are the final model's.
    /// </summary>
    public TrainingResult Fit(CancellationToken cancel = default)
    {
        var stepClock = new Stopwatch();
        var sinceCheckpoint = Stopwatch.StartNew();
        EvaluationResult? lastEpochTest = null; // the test figures of the epoch that just ended, still the model's
        while (!Finished)
        {
            var epochClock = Stopwatch.StartNew();
            stepClock.Restart();
            lastEpochTest = null;
            foreach (Batch batch in _trainLoader.Epoch(_epoch, _batchInEpoch))
            {
                TrainStep(batch);
                if (cancel.IsCancellationRequested || Step >= TotalSteps)
                    break;
                if (CheckpointInterval is TimeSpan interval && sinceCheckpoint.Elapsed >= interval && _batchInEpoch < BatchesPerEpoch)
                {
                    stepClock.Stop();
                    CheckpointDue?.Invoke();
                    stepClock.Start();
                    sinceCheckpoint.Restart();
                }
            }
            TrainSeconds += stepClock.Elapsed.TotalSeconds;
            if (_batchInEpoch == BatchesPerEpoch)
            {
                lastEpochTest = EndEpoch(epochClock.Elapsed.TotalSeconds);
                sinceCheckpoint.Restart();
            }
            if (cancel.IsCancellationRequested)
                break;
        }
        if (!Finished)
            return new TrainingResult(false, null);
        // A run stopped by its step limit may be resumed, so it keeps its last weights; one that is over gets its
        // best epoch's (with a validation set, whose epochs leave no test figures to reuse).
        bool resumable = Step >= TotalSteps && _epoch < Options.Epochs && !StoppedEarly;
        if (!resumable)
            RestoreBestWeights();
        return new TrainingResult(true, lastEpochTest ?? EvaluateTest());
    }

    /// <summary>One step on <paramref name="batch"/>: forward, backward, the finite check, clipping and Adam's update.</summary>
    private void TrainStep(Batch batch)
    {
        float rate = LearningRateSchedules.At(Options.Schedule, Options.LearningRate, Step, ScheduledSteps);
        double loss = _runner.TrainStep(batch);
        // Checked before the update, so the weights stay those of the last good step.
        if (!double.IsFinite(loss) || !_runner.GradientIsFinite)
            throw new TrainingDivergedException(Step + 1, loss);
        _runner.Update(_adam, rate, Options.ClipNorm);
        _batchInEpoch++;
        _epochLossSum += loss;
        StepCompleted?.Invoke(new StepReport(Step, _epoch + 1, _batchInEpoch, BatchesPerEpoch, loss, batch.Size, rate));
    }

    /// <summary>
    /// Closes the epoch just trained: evaluates it (on the validation set, keeping the weights when they are the best
    /// so far; else on the test set), records and reports it. Returns its test figures, or null with a validation set.
    /// </summary>
    private EvaluationResult? EndEpoch(double seconds)
    {
        EvaluationResult? test = null, validation = null;
        if (_validation is null)
            test = EvaluateTest();
        else
            validation = Evaluate(_validation);
        var report = new EpochReport(_epoch + 1, _epochLossSum / _batchInEpoch, test?.Accuracy ?? double.NaN, test?.Loss ?? double.NaN, seconds,
            validation?.Accuracy ?? double.NaN, validation?.Loss ?? double.NaN);
        _history.Add(report);
        if (validation is not null && (BestEpoch is not int best || validation.Loss < _history[best - 1].ValidationLoss))
        {
            BestEpoch = report.Epoch;
            Model.Parameters.CopyTo(_bestParameters!, 0);
        }
        _epoch++;
        _batchInEpoch = 0;
        _epochLossSum = 0;
        EpochCompleted?.Invoke(report);
        return test;
    }

    /// <summary>
    /// Puts the weights of <see cref="BestEpoch"/> back into the model; false (nothing changed) without a validation
    /// set or before the first epoch. <see cref="Fit"/> does it when a run ends; after a cancelled Fit the caller
    /// may. Adam's state stays the last step's, so a run continued after this no longer matches an uninterrupted one.
    /// </summary>
    public bool RestoreBestWeights()
    {
        if (BestEpoch is null)
            return false;
        _bestParameters!.CopyTo(Model.Parameters, 0);
        return true;
    }

    /// <summary>
    /// The model on the test source (for images: clean, or augmented as the notebook does with
    /// <see cref="TrainingOptions.AugmentTest"/>); null without a test source.
    /// </summary>
    public EvaluationResult? EvaluateTest() => _test is null ? null : Evaluate(_test);

    /// <summary>The model on the validation set; null without one.</summary>
    public EvaluationResult? EvaluateValidation() => _validation is null ? null : Evaluate(_validation);

    private EvaluationResult Evaluate(ISequenceSource source)
    {
        using var loader = new BatchLoader(source, _trainLoader.BatchSize, shuffle: false, Options.Seed);
        return Evaluator.Evaluate(_runner, loader);
    }

    /// <summary>Saves the model alone (weights, sizes and view) as safetensors; read it back with <see cref="ModelCheckpoint.Load(string)"/>.</summary>
    public void SaveModel(string path) => ModelCheckpoint.Save(path, Model, Sequence, Step);

    /// <summary>
    /// Saves the run's <see cref="RunCheckpoint"/> (weights, Adam's state, the <see cref="TrainerState"/> and, with a
    /// validation set, the best epoch's weights) into <paramref name="runDirectory"/>. Where the run stands is Adam's
    /// step alone: its epoch and batch follow from <see cref="BatchesPerEpoch"/>.
    /// </summary>
    public void SaveCheckpoint(string runDirectory)
    {
        var state = new TrainerState(Options, _epochLossSum, TrainSeconds, _history, BestEpoch);
        RunCheckpoint.Save(runDirectory, Model, Sequence, _adam, state.ToMetadata(), BestEpoch is null ? null : _bestParameters);
    }

    /// <summary>
    /// Continues <paramref name="run"/> on the images it was trained on, with its own options but for
    /// <paramref name="changes"/>.
    /// </summary>
    public static Trainer Resume(ResumableRun run, ImageSet train, ImageSet test, ResumeChanges? changes = null) =>
        Resume(run, changes, (options, model) => new Trainer(options, train, test, model));

    /// <summary>
    /// Continues <paramref name="run"/> on <paramref name="train"/> (and <paramref name="test"/> and
    /// <paramref name="validation"/>), which must give the examples the run was started with; as
    /// <see cref="Resume(ResumableRun, ImageSet, ImageSet, ResumeChanges?)"/> otherwise.
    /// </summary>
    public static Trainer Resume(ResumableRun run, ISequenceSource train, ISequenceSource? test = null, ResumeChanges? changes = null, ISequenceSource? validation = null) =>
        Resume(run, changes, (options, model) => new Trainer(options, train, test, model, validation));

    private static Trainer Resume(ResumableRun run, ResumeChanges? changes, Func<TrainingOptions, LoadedModel, Trainer> create)
    {
        ArgumentNullException.ThrowIfNull(run);
        SavedRun saved = run.Saved;
        TrainerState state = run.State;
        Trainer trainer = create((changes ?? new ResumeChanges()).ApplyTo(state.Options), saved.Model);
        trainer._adam.Restore(saved.Optimizer.Step, saved.Optimizer.FirstMoment, saved.Optimizer.SecondMoment);
        trainer._epochLossSum = state.EpochLossSum;
        trainer.TrainSeconds = state.TrainSeconds;
        trainer._history.AddRange(state.History);
        trainer.RestoreBest(saved.Path, state.BestEpoch, saved.BestWeights);
        trainer.RestorePosition(saved.Path);
        return trainer;
    }

    /// <summary>The best epoch and its weights, present exactly when the run has a validation set and a finished epoch.</summary>
    private void RestoreBest(string path, int? bestEpoch, float[]? bestWeights)
    {
        bool expected = _validation is not null && _history.Count > 0;
        if (expected != (bestEpoch is not null && bestWeights is not null) || bestEpoch is int best && (best < 1 || best > _history.Count))
            throw new SmnistException($"{path}: the best epoch's record disagrees with the run's validation set and {_history.Count} finished epochs");
        BestEpoch = bestEpoch;
        bestWeights?.CopyTo(_bestParameters!, 0);
    }

    /// <summary>
    /// Sets the epoch and batch from Adam's step, which must lie within this run's epochs and agree with the
    /// finished epochs saved beside it.
    /// </summary>
    private void RestorePosition(string path)
    {
        if (Step > (long)Options.Epochs * BatchesPerEpoch)
            throw new SmnistException($"{path}: Adam's step {Step} lies past this run's {Options.Epochs} epochs of {BatchesPerEpoch} batches");
        _epoch = (int)(Step / BatchesPerEpoch);
        _batchInEpoch = (int)(Step % BatchesPerEpoch);
        if (_history.Count != _epoch || !double.IsFinite(_epochLossSum) || !double.IsFinite(TrainSeconds) || TrainSeconds < 0)
        {
            throw new SmnistException($"{path}: the saved state disagrees with itself (Adam at step {Step}, which is epoch {_epoch + 1} batch {_batchInEpoch}, " +
                $"but {_history.Count} finished epochs)");
        }
    }

    /// <summary>Stops the worker threads and the loader.</summary>
    public void Dispose()
    {
        _runner.Dispose();
        _trainLoader.Dispose();
    }

    private static string Describe(ModelConfig config) =>
        $"{config.Layers} layer(s) of {config.HiddenSize} units on {config.InputSize} inputs{(config.RefineGate ? " with the refine gate" : "")}";
}
