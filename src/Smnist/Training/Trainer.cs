using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>One training step done: its 1-based number, epoch and batch, and the batch's mean loss.</summary>
public readonly record struct StepReport(long Step, int Epoch, int Batch, int BatchesPerEpoch, double Loss, int Samples, float LearningRate);

/// <summary>One epoch done (1-based): its mean training loss, the test figures and its wall time.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double TestAccuracy, double TestLoss, double Seconds);

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
/// The seed notebook's training loop: for each epoch, for each shuffled, augmented batch, forward, cross-entropy,
/// backpropagation through time, optional clipping, an Adam step; then the test accuracy. Every random draw comes
/// from the seed and the position in the run, so a run saved with <see cref="SaveCheckpoint"/> and continued with
/// <see cref="Resume(string, ImageSet, ImageSet, long?, int?)"/> gives the same parameters as one that was never interrupted.
/// </summary>
public sealed class Trainer : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>The checkpoint's copy of <see cref="Options"/>, written by the serialisation config.json uses.</summary>
    private const string OptionsKey = "trainer.options";

    private readonly ISequenceSource? _test;
    private readonly BatchLoader _trainLoader;
    private readonly BatchRunner _runner;
    private readonly Adam _adam;
    private readonly List<EpochReport> _history = [];
    private int _epoch;             // 0-based epoch in progress; _epoch * BatchesPerEpoch + _batchInEpoch is always Adam's step
    private int _batchInEpoch;      // next batch of that epoch
    private double _epochLossSum;   // over the _batchInEpoch steps of the epoch in progress

    /// <summary>
    /// A run on MNIST-style images: <paramref name="options"/> also choose the sequence view, the augmentation and
    /// the limits on both sets.
    /// </summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="train">Training images.</param>
    /// <param name="test">Test images, evaluated after every epoch.</param>
    /// <param name="initialWeights">Weights to start from (their sizes and view must match the options), or null for a fresh model.</param>
    public Trainer(TrainingOptions options, ImageSet train, ImageSet test, LoadedModel? initialWeights = null)
        : this(options, ImageSources(options, train, test, initialWeights), initialWeights)
    {
    }

    /// <summary>
    /// A run on any labelled sequences: the model reads <paramref name="train"/>'s features and predicts its
    /// classes. Of <paramref name="options"/>, the image settings (<see cref="TrainingOptions.Sequence"/>,
    /// <see cref="TrainingOptions.Dataset"/>, augmentation and the set limits) do not apply.
    /// </summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="train">Training examples.</param>
    /// <param name="test">Examples evaluated after every epoch and at the end, or null for none.</param>
    /// <param name="initialWeights">Weights to start from (their sizes must match), or null for a fresh model.</param>
    public Trainer(TrainingOptions options, ISequenceSource train, ISequenceSource? test = null, LoadedModel? initialWeights = null)
        : this(options, SequenceSources(train, test), initialWeights)
    {
    }

    private Trainer(TrainingOptions options, Sources sources, LoadedModel? initialWeights)
    {
        options.Validate();
        // The thread count is part of a run's trajectory: resolved once, so a resume on another machine keeps it.
        // The view recorded is the one the model reads (custom for a run on sequences), as config.json shows it.
        Options = options = options with { Threads = options.EffectiveThreads, Sequence = sources.Sequence.View };
        Sequence = sources.Sequence;
        ISequenceSource train = sources.Train;
        var config = new ModelConfig(train.Features, options.Hidden, options.Layers, train.Classes);
        if (initialWeights is not null && initialWeights.Model.Config != config)
            throw new SmnistException($"the initial weights are for {Describe(initialWeights.Model.Config)}, the options ask for {Describe(config)}");
        // Weights, Adam's two moments and the workers' buffers, counted in 64-bit arithmetic before any of them is allocated.
        int batchRows = Math.Min(options.BatchSize, Math.Max(1, train.Count));
        MemoryBudget.Require(3 * sizeof(float) * config.ParameterCount + BatchRunner.EstimateBytes(config, train.Steps, batchRows, options.Threads),
            $"training {Describe(config)} in batches of {batchRows} on {options.Threads} threads");
        config.Validate();
        Model = initialWeights?.Model ?? SequenceClassifier<float>.Initialize(config, options.Seed, options.ForgetBias, options.InputBias);

        _test = sources.Test;
        _trainLoader = new BatchLoader(train, options.BatchSize, options.Shuffle, options.Seed);
        _runner = new BatchRunner(Model, train.Steps, _trainLoader.BatchSize, options.EffectiveThreads);
        _adam = new Adam(Model.Layout.Count, new AdamSettings(WeightDecay: options.WeightDecay));
        long scheduled = (long)options.Epochs * _trainLoader.BatchesPerEpoch;
        TotalSteps = Math.Min(scheduled, options.MaxSteps ?? scheduled);
        ScheduledSteps = scheduled;
    }

    /// <summary>What a run reads: its training and test sources and the view saved with the model.</summary>
    private sealed record Sources(ISequenceSource Train, ISequenceSource? Test, SequenceLayout Sequence);

    private static Sources ImageSources(TrainingOptions options, ImageSet train, ImageSet test, LoadedModel? initialWeights)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options.Validate();
        SequenceLayout sequence = initialWeights?.Sequence ?? SequenceLayout.Create(options.Sequence, unchecked((int)options.Seed));
        if (sequence.View != options.Sequence)
            throw new SmnistException($"the initial weights were trained on the {initialWeights!.Sequence.Name} view, not {SequenceLayout.NameOf(options.Sequence)}");
        train = options.LimitTrain is int limitTrain ? train.Take(Math.Min(limitTrain, train.Count)) : train;
        test = options.LimitTest is int limitTest ? test.Take(Math.Min(limitTest, test.Count)) : test;
        return new Sources(ImageSequences.Source(train, sequence, options.Augment, options.Seed), ImageSequences.Source(test, sequence, options.AugmentTest, options.Seed), sequence);
    }

    private static Sources SequenceSources(ISequenceSource train, ISequenceSource? test)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
            throw new SmnistException("the training source is empty; there is nothing to train on");
        if (test is not null && (test.Features != train.Features || test.Classes != train.Classes))
            throw new SmnistException($"the test source has {test.Features} features and {test.Classes} classes, the training source {train.Features} and {train.Classes}");
        return new Sources(train, test, SequenceLayout.Custom(train.Steps, train.Features));
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

    /// <summary>Training examples.</summary>
    public int TrainCount => _trainLoader.Count;

    /// <summary>Test examples (0 without a test source).</summary>
    public int TestCount => _test?.Count ?? 0;

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

    /// <summary>Raised after every epoch and its test evaluation: a good moment for <see cref="SaveCheckpoint"/>.</summary>
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

    /// <summary>Trains until the last epoch or the step limit, or until <paramref name="cancel"/> fires (checked after each step).</summary>
    public TrainingResult Fit(CancellationToken cancel = default)
    {
        var stepClock = new Stopwatch();
        var sinceCheckpoint = Stopwatch.StartNew();
        while (_epoch < Options.Epochs && Step < TotalSteps)
        {
            var epochClock = Stopwatch.StartNew();
            stepClock.Restart();
            foreach (Batch batch in _trainLoader.Epoch(_epoch, _batchInEpoch))
            {
                float rate = LearningRateSchedules.At(Options.Schedule, Options.LearningRate, Step, ScheduledSteps);
                double loss = _runner.TrainStep(batch);
                // Checked before the update, so the weights stay those of the last good step.
                if (!double.IsFinite(loss) || !float.IsFinite(TensorPrimitives.MaxMagnitude<float>(_runner.Gradient)))
                    throw new TrainingDivergedException(Step + 1, loss);
                if (Options.ClipNorm is float maxNorm)
                    GradientClipping.ClipGlobalNorm(_runner.Gradient, maxNorm);
                _adam.Update(Model.Parameters, _runner.Gradient, rate);
                _batchInEpoch++;
                _epochLossSum += loss;
                StepCompleted?.Invoke(new StepReport(Step, _epoch + 1, _batchInEpoch, BatchesPerEpoch, loss, batch.Size, rate));
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
            if (_batchInEpoch < BatchesPerEpoch)
                return cancel.IsCancellationRequested && Step < TotalSteps ? new TrainingResult(false, null) : new TrainingResult(true, EvaluateTest());

            EvaluationResult? test = EvaluateTest();
            var report = new EpochReport(_epoch + 1, _epochLossSum / _batchInEpoch, test?.Accuracy ?? double.NaN, test?.Loss ?? double.NaN, epochClock.Elapsed.TotalSeconds);
            _history.Add(report);
            _epoch++;
            _batchInEpoch = 0;
            _epochLossSum = 0;
            EpochCompleted?.Invoke(report);
            sinceCheckpoint.Restart();
            if (_epoch == Options.Epochs || Step >= TotalSteps)
                return new TrainingResult(true, test);
            if (cancel.IsCancellationRequested)
                return new TrainingResult(false, null);
        }
        return new TrainingResult(true, EvaluateTest());
    }

    /// <summary>
    /// The model on the test source (for images: clean, or augmented as the seed notebook does with
    /// <see cref="TrainingOptions.AugmentTest"/>); null without a test source.
    /// </summary>
    public EvaluationResult? EvaluateTest()
    {
        if (_test is null)
            return null;
        using var loader = new BatchLoader(_test, _trainLoader.BatchSize, shuffle: false, Options.Seed);
        return Evaluator.Evaluate(_runner, loader);
    }

    /// <summary>Saves the model alone (weights, sizes and view) as safetensors; read it back with <see cref="ModelCheckpoint.Load(string)"/>.</summary>
    public void SaveModel(string path) => ModelCheckpoint.Save(path, Model, Sequence, Step);

    /// <summary>
    /// Saves the run's <see cref="RunCheckpoint"/> (weights, Adam's state, the options in config.json's form and the
    /// epoch sums) into <paramref name="runDirectory"/>. Where the run stands is Adam's step alone: its epoch and batch follow
    /// from <see cref="BatchesPerEpoch"/>.
    /// </summary>
    public void SaveCheckpoint(string runDirectory)
    {
        var state = new Dictionary<string, string>
        {
            [OptionsKey] = Options.ToJson().ToJsonString(),
            ["trainer.epoch_loss_sum"] = _epochLossSum.ToString("R", CultureInfo.InvariantCulture),
            ["trainer.train_seconds"] = TrainSeconds.ToString("R", CultureInfo.InvariantCulture),
            ["trainer.history"] = JsonSerializer.Serialize(_history, Json),
        };
        RunCheckpoint.Save(runDirectory, Model, Sequence, _adam, state);
    }

    /// <summary>
    /// Continues the run saved in <paramref name="runDirectory"/> with its own options, except the step limit,
    /// which <paramref name="maxSteps"/> replaces (null: run to the last epoch), and the worker count, which
    /// <paramref name="threads"/> replaces when given (the result then differs from an uninterrupted run's in rounding).
    /// </summary>
    public static Trainer Resume(string runDirectory, ImageSet train, ImageSet test, long? maxSteps = null, int? threads = null) =>
        Resume(runDirectory, maxSteps, threads, (options, model) => new Trainer(options, train, test, model));

    /// <summary>
    /// Continues the run on <paramref name="train"/> (and <paramref name="test"/>) saved in
    /// <paramref name="runDirectory"/>; the sources must give the examples the run was started with. As
    /// <see cref="Resume(string, ImageSet, ImageSet, long?, int?)"/> otherwise.
    /// </summary>
    public static Trainer Resume(string runDirectory, ISequenceSource train, ISequenceSource? test = null, long? maxSteps = null, int? threads = null) =>
        Resume(runDirectory, maxSteps, threads, (options, model) => new Trainer(options, train, test, model));

    private static Trainer Resume(string runDirectory, long? maxSteps, int? threads, Func<TrainingOptions, LoadedModel, Trainer> create)
    {
        SavedRun saved = RunCheckpoint.Load(runDirectory);
        OptimizerState optimizer = saved.Optimizer;
        string path = Path.Combine(runDirectory, ModelCheckpoint.OptimizerFileName);
        TrainingOptions options = TrainingOptions.FromJson(Read<JsonObject>(optimizer, path, OptionsKey), $"{path}: metadata '{OptionsKey}'") with { MaxSteps = maxSteps };
        if (threads is int threadOverride)
            options = options with { Threads = threadOverride };
        Trainer trainer = create(options, saved.Model);
        trainer._adam.Restore(optimizer.Step, optimizer.FirstMoment, optimizer.SecondMoment);
        trainer._epochLossSum = ReadNumber<double>(optimizer, path, "trainer.epoch_loss_sum");
        trainer.TrainSeconds = ReadNumber<double>(optimizer, path, "trainer.train_seconds");
        trainer._history.AddRange(Read<List<EpochReport>>(optimizer, path, "trainer.history"));
        trainer.RestorePosition(path);
        return trainer;
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

    private static T Read<T>(OptimizerState state, string path, string key)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(state.Metadata.GetValueOrDefault(key) ?? "null", Json)
                ?? throw new SmnistException($"{path}: metadata '{key}' is missing");
        }
        catch (JsonException e)
        {
            throw new SmnistException($"{path}: metadata '{key}' is not valid: {e.Message}");
        }
    }

    private static T ReadNumber<T>(OptimizerState state, string path, string key) where T : System.Numerics.INumber<T> =>
        T.TryParse(state.Metadata.GetValueOrDefault(key), NumberStyles.Float, CultureInfo.InvariantCulture, out T? value) && value is not null
            ? value
            : throw new SmnistException($"{path}: metadata '{key}' is missing or not a number");

    private static string Describe(ModelConfig config) =>
        $"{config.Layers} layer(s) of {config.HiddenSize} units on {config.InputSize} inputs";
}
