using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;
using Spectre.Console;

namespace Smnist.Cli;

/// <summary>
/// <c>smnist train</c>: resolves the options over a recipe, trains with a live display, checkpoints after every
/// epoch and on Ctrl+C, and writes the run's files (all atomically) and a summary table.
/// </summary>
internal sealed class TrainCommand
{
    /// <summary>A recipe's former name: accepted, with a note giving today's.</summary>
    private const string FormerNotebookName = "seed";

    // Maps each recipe's name to its place in Recipe.All.
    private readonly Option<int?> _recipe = CliOptions.Choice("--recipe",
        $"Starting values for every option below: {string.Join(", ", Recipe.All.SkipLast(1).Select(Described))} or {Described(Recipe.All[^1])} [default: {Recipe.Best.Name}]",
        Recipe.All.Select((recipe, index) => (recipe.Name, index)).ToDictionary(),
        new Dictionary<string, int> { [FormerNotebookName] = Recipe.All.ToList().IndexOf(Recipe.Notebook) });
    private readonly Option<int?> _epochs = CliOptions.Number("--epochs", "N", "Passes over the training set", TrainingLimits.Epochs, RecipeValues(o => o.Epochs));
    private readonly Option<int?> _batchSize = CliOptions.Number("--batch-size", "N", "Examples per training step", TrainingLimits.BatchSize, RecipeValues(o => o.BatchSize));
    private readonly Option<int?> _hidden = CliOptions.Number("--hidden", "N", "LSTM units per layer", TrainingLimits.Hidden, RecipeValues(o => o.Hidden));
    private readonly Option<int?> _layers = CliOptions.Number("--layers", "N", "Stacked LSTM layers", TrainingLimits.Layers, RecipeValues(o => o.Layers));
    private readonly Option<float?> _lr = CliOptions.Number("--lr", "RATE", "Adam learning rate", TrainingLimits.LearningRate, RecipeValues(o => o.LearningRate));
    private readonly Option<LearningRateSchedule?> _schedule = CliOptions.Choice("--schedule",
        $"Learning rate over the run: constant, or cosine decay to zero over all steps, per step [{RecipeValues(o => o.Schedule.ToString().ToLowerInvariant())}]",
        new Dictionary<string, LearningRateSchedule> { ["constant"] = LearningRateSchedule.Constant, ["cosine"] = LearningRateSchedule.Cosine });
    private readonly Option<float?> _forgetBias = CliOptions.Number("--forget-bias", "B",
        "Initial forget-gate bias; without it the gates keep nn.Linear's uniform init", TrainingLimits.ForgetBias, RecipeValues(o => o.ForgetBias));
    private readonly Option<float?> _inputBias = CliOptions.Number("--input-bias", "B",
        "Initial input-gate bias; without it the gates keep nn.Linear's uniform init", TrainingLimits.InputBias, RecipeValues(o => o.InputBias));
    private readonly Option<GateInit?> _gateInit = CliOptions.Choice("--gate-init",
        "How the forget-gate biases start: constant (--forget-bias and --input-bias), chrono (b_f = log u, u ~ U(1, T_max - 1), " +
        "T_max the longest training sequence) or uniform (b_f = logit u, u ~ U(1/n, 1 - 1/n)); chrono and uniform give the input " +
        $"or refine gate -b_f (docs/engine.md) [{RecipeValues(o => TrainingOptions.GateInitName(o.GateInit))}]",
        Enum.GetValues<GateInit>().ToDictionary(TrainingOptions.GateInitName));
    private readonly Option<bool> _refineGate = CliOptions.Flag("--refine-gate",
        "UR-LSTM cells (Gu et al. 2020): a refine gate in the input gate's place adjusts the forget gate, and the cell writes what it does not keep; " +
        $"as many parameters as the LSTM (docs/engine.md) [{RecipeValues(o => o.RefineGate ? "on" : "off")}]");
    private readonly Option<bool> _noRefineGate = CliOptions.Flag("--no-refine-gate", "Plain LSTM cells, whatever the recipe says");
    private readonly Option<float?> _clip = CliOptions.Number("--clip", "N", "Clip the global gradient norm to N", TrainingLimits.ClipNorm, RecipeValues(o => o.ClipNorm));
    private readonly Option<float?> _weightDecay = CliOptions.Number("--weight-decay", "W", "Decoupled (AdamW) weight decay", TrainingLimits.WeightDecay, RecipeValues(o => o.WeightDecay));
    private readonly Option<ulong?> _seed = CliOptions.Number("--seed", "N", "Seeds the weights, shuffling, augmentation and permutation", 0UL, ulong.MaxValue, RecipeValues(o => o.Seed));
    private readonly Option<int?> _threads = CliOptions.Number("--threads", "N", "Worker threads; 0 for one per processor", TrainingLimits.Threads, RecipeValues(o => o.Threads));
    private readonly Option<bool> _augment = CliOptions.Flag("--augment", $"Random affine augmentation of training images, as the notebook does (±10°, ±5% shift, 0.95-1.05 scale) [{RecipeValues(o => o.Augment ? "on" : "off")}]");
    private readonly Option<bool> _noAugment = CliOptions.Flag("--no-augment", "Train on the images as they are");
    private readonly Option<bool> _augmentTest = CliOptions.Flag("--augment-test", "Evaluate on augmented test images (the notebook's protocol) instead of the clean test set");
    private readonly Option<bool> _noShuffle = CliOptions.Flag("--no-shuffle", "Keep the training set's order in every epoch");
    private readonly Option<long?> _maxSteps = CliOptions.Number("--max-steps", "N", "Stop after N training steps in all (resumable with --resume)", TrainingLimits.MaxSteps);
    private readonly Option<int?> _limitTrain = CliOptions.Number("--limit-train", "N", "Train on the first N examples only", TrainingLimits.Limit);
    private readonly Option<int?> _limitTest = CliOptions.Number("--limit-test", "N", "Evaluate on the first N test examples only", TrainingLimits.Limit);
    private readonly Option<SequenceView?> _sequence = CliOptions.Choice("--sequence",
        $"How an image becomes a sequence: 28 rows of 28 pixels, 784 pixels, 784 pixels in a fixed random order, or the path of a pen (strokes) [{RecipeValues(o => SequenceLayout.NameOf(o.View))}]",
        Enum.GetValues<SequenceView>().Where(v => v != SequenceView.Custom).ToDictionary(SequenceLayout.NameOf));
    private readonly Option<DatasetKind?> _dataset = DataLoading.DatasetOption();
    private readonly Option<string?> _dataDir = DataLoading.DataDirOption();
    private readonly Option<string?> _data = CliOptions.Path("--data", "FILE", "Train on your own sequences from this .jsonl or .ts file instead of images (see docs/sequences.md); needs --test");
    private readonly Option<string?> _test = CliOptions.Path("--test", "FILE", "With --data: the sequences to evaluate on after every epoch and at the end");
    private readonly Option<int?> _classes = CliOptions.Number("--classes", "K", "With --data: the number of classes [default: the highest label + 1, or the .ts file's class names]", 2, SequenceFiles.MaxClasses);
    private readonly Option<string?> _init = CliOptions.Path("--init", "FILE", "Start from these weights (a model.safetensors); its sizes, and its sequence view unless the recipe names one, are the defaults");
    private readonly Option<int?> _validation = CliOptions.Number("--validation", "N",
        "Hold out N training images (drawn by --seed) as a validation set: the per-epoch figures and plots are on it, the best epoch's weights are kept, and the test set is read once, at the end",
        TrainingLimits.Validation);
    private readonly Option<int?> _patience = CliOptions.Number("--patience", "K",
        "With --validation: stop once K epochs in a row have not lowered the best validation loss", TrainingLimits.Patience);
    private readonly Option<string?> _resume = CliOptions.Path("--resume", "DIR", "Continue the run saved in DIR exactly (weights, optimizer, epoch, step, random state)");
    private readonly Option<double?> _checkpointEvery = CliOptions.Number("--checkpoint-every", "MINUTES",
        "Also save a resumable checkpoint within an epoch once this long has passed since the last one (every epoch's end saves one); 0 for epoch ends only", 0.0, 1e6, "default: 10");
    private readonly Option<string?> _out = CliOptions.Path("--out", "DIR", "Where to write the run's files [default: runs/<UTC timestamp>]");
    private readonly Option<bool> _force = CliOptions.Flag("--force", "Overwrite a run already in --out");

    /// <summary>Checkpoints within an epoch when it runs longer than this (the 784-step views take minutes per epoch).</summary>
    private const double DefaultCheckpointMinutes = 10;

    private readonly CliContext _context;

    private TrainCommand(CliContext context) => _context = context;

    /// <summary>Options that decide the trajectory of a run; a resumed run keeps its own.</summary>
    private static string Described(Recipe recipe) => $"{recipe.Name} ({recipe.Description})";

    /// <summary>
    /// The recipes' value of an option, for its help: "default: 32" when all agree, else each value with the
    /// recipes that use it ("recipe: 15 best, 10 notebook, 14 pixels, 50 permuted"). Null reads "none".
    /// </summary>
    private static string RecipeValues<T>(Func<TrainingOptions, T> value)
    {
        var groups = Recipe.All.GroupBy(r => string.Format(CultureInfo.InvariantCulture, "{0}", value(r.Options) is { } v ? v : "none")).ToList();
        if (groups.Count == 1)
            return $"default: {groups[0].Key}";
        return "recipe: " + string.Join(", ", groups.Select(g => $"{g.Key} {JoinAnd(g.Select(r => r.Name).ToList())}"));
    }

    private static string JoinAnd(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";

    /// <summary>
    /// The only options --resume may be given with (its help lists them; any other is refused): where the data is,
    /// how often to checkpoint, and the two settings <see cref="ResumeChanges"/> lets a resumed run change.
    /// </summary>
    private Option[] ResumeOptions => [_maxSteps, _dataDir, _checkpointEvery, _threads];

    public static Command Create(CliContext context)
    {
        var train = new TrainCommand(context);
        var command = new Command("train", "Train an LSTM on sequential MNIST; write the model, metrics and plots");
        // In the order the issue lists them, which groups them by topic.
        Option[] all =
        [
            train._recipe, train._epochs, train._batchSize, train._hidden, train._layers, train._lr, train._schedule,
            train._forgetBias, train._inputBias, train._gateInit, train._refineGate, train._noRefineGate, train._clip, train._weightDecay, train._seed, train._threads, train._augment, train._noAugment,
            train._augmentTest, train._noShuffle, train._maxSteps, train._limitTrain, train._limitTest, train._sequence,
            train._dataset, train._dataDir, train._init, train._resume, train._checkpointEvery, train._out, train._force,
            train._validation, train._patience, train._data, train._test, train._classes,
        ];
        train._resume.Description += $"; only {string.Join(", ", train.ResumeOptions.Select(o => o.Name))} may be given with it " +
            "(another --threads gives a result that differs in rounding)";
        foreach (Option option in all)
            command.Options.Add(option);
        command.Validators.Add(train.Validate);
        command.SetAction(train.Execute);
        return command;
    }

    private void Validate(CommandResult result)
    {
        bool Given(Option option) => result.GetResult(option) is { Implicit: false };
        // Read off the token: a name the option refuses has no value to read.
        if (result.GetResult(_gateInit)?.Tokens is [{ Value: var gateInit }] && !gateInit.Equals(TrainingOptions.GateInitName(GateInit.Constant), StringComparison.OrdinalIgnoreCase)
            && (Given(_forgetBias) || Given(_inputBias)))
        {
            result.AddError($"--gate-init {gateInit.ToLowerInvariant()} draws the forget and input biases; --forget-bias and --input-bias go with --gate-init constant");
        }
        if (Given(_refineGate) && Given(_noRefineGate))
            result.AddError("--refine-gate and --no-refine-gate contradict each other");
        if (Given(_augment) && Given(_noAugment))
            result.AddError("--augment and --no-augment contradict each other");
        if (Given(_data) != Given(_test))
            result.AddError("--data and --test go together: train on one file of sequences, test on another");
        if (Given(_classes) && !Given(_data))
            result.AddError("--classes is for --data's sequences; images have their ten");
        if (Given(_data) && Given(_dataDir))
            result.AddError("--data-dir is where MNIST's images are; --data reads your own sequences");
        if (Given(_resume))
        {
            string[] conflicting = result.Command.Options.Except(ResumeOptions).Where(o => o != _resume && Given(o)).Select(o => o.Name).ToArray();
            if (conflicting.Length > 0)
                result.AddError($"--resume continues a run exactly as it was configured; {string.Join(", ", conflicting)} cannot be given with it");
        }
    }

    private int Execute(ParseResult parsed)
    {
        var wall = Stopwatch.StartNew();
        string? resumeDirectory = parsed.GetValue(_resume);
        NewRunSetup? fresh = resumeDirectory is null ? NewRun(parsed) : null;
        string directory = resumeDirectory ?? fresh!.Directory;

        // Held until the run ends, so no other run writes into this folder meanwhile.
        using RunDirectory run = fresh is not null
            ? RunDirectory.Create(directory, parsed.GetValue(_force),
                $"{directory} already holds a trained model ({ModelCheckpoint.ModelFileName}); pass --force to overwrite it, or --resume {Cli.ShellWord(directory)} to continue it")
            : RunDirectory.Open(directory);
        ResumableRun? saved = resumeDirectory is null ? null : ResumableRun.Read(resumeDirectory);

        string? dataDir = parsed.GetValue(_dataDir) ?? saved?.DataDirectory;
        SequenceFiles? files = fresh is not null ? fresh.Files : SequenceFiles.Resumed(directory);
        var changes = new ResumeChanges(parsed.GetValue(_maxSteps), parsed.GetValue(_threads));
        using Trainer trainer = files is not null
            ? saved is null ? new Trainer(fresh!.Options, files.Train, files.Test, fresh.Init) : Trainer.Resume(saved, files.Train, files.Test, changes)
            : ImageTrainer(fresh, saved, dataDir, changes);

        if (saved is null)
        {
            // Only now that the new run is ready: no file of an earlier run (replaced with --force, or killed before
            // its first checkpoint) may outlive it beside the new ones.
            run.Begin(trainer, fresh!.Recipe, dataDir, fresh.InitPath, Plots.RunFiles, files is null ? null : (files.Train.Path, files.Test.Path));
        }
        else
        {
            run.Continue(trainer, Plots.RunFiles);
            if (trainer.Options.Threads != saved.Options.Threads)
                _context.Error.WriteLine($"note: the run was trained on {saved.Options.Threads} threads; on {trainer.Options.Threads} its result will differ (in rounding) from an uninterrupted run's");
        }

        TrainingDisplay display = TrainingDisplay.Create(_context);
        display.Message(string.Create(CultureInfo.InvariantCulture,
            $"{(resumeDirectory is null ? "training" : $"resuming at step {trainer.Step}")}: {trainer.TrainCount} training, " +
            $"{(trainer.ValidationCount > 0 ? $"{trainer.ValidationCount} validation " : "")}and {trainer.TestCount} test {Examples(trainer)}, " +
            $"{trainer.BatchesPerEpoch} steps per epoch, {trainer.TotalSteps} steps in all, {trainer.Options.EffectiveThreads} threads; writing to {directory}"));
        trainer.StepCompleted += step =>
        {
            display.Step(step.Epoch, trainer.Options.Epochs, step.Batch, step.BatchesPerEpoch, (float)step.Loss, step.Samples);
        };
        trainer.EpochCompleted += epoch =>
        {
            display.EpochDone(epoch);
            // A checkpoint per epoch: a crash loses at most one epoch, and --resume picks up from here.
            run.SaveProgress(trainer);
        };

        double checkpointMinutes = parsed.GetValue(_checkpointEvery) ?? DefaultCheckpointMinutes;
        trainer.CheckpointInterval = checkpointMinutes > 0 ? TimeSpan.FromMinutes(checkpointMinutes) : null;
        trainer.CheckpointDue += () =>
        {
            run.SaveProgress(trainer);
        };

        TrainingResult result;
        try
        {
            Cli.StopsGracefully = true;
            result = display.Run(() => trainer.Fit(_context.Cancel));
        }
        catch (TrainingDivergedException e)
        {
            string kept = run.SavedStep is long savedStep ? $"the last good checkpoint (step {savedStep}) is kept in {directory}" : "no checkpoint was saved";
            throw new SmnistException($"{e.Message}; {kept}; a lower --lr or --clip may help", e);
        }
        finally
        {
            Cli.StopsGracefully = false;
        }
        var written = new List<string>(run.SaveProgress(trainer));
        written.AddRange(Plots.WriteLoss(run));
        string resumeCommand = $"{_context.Program} train --resume {Cli.ShellWord(directory)}";

        if (!result.Completed)
        {
            _context.Output.WriteLine($"interrupted after step {trainer.Step} of {trainer.TotalSteps}; checkpoint saved in {directory}");
            _context.Output.WriteLine($"resume with: {resumeCommand}");
            return Cli.Interrupted;
        }

        EvaluationResult final = result.Test!;
        written.Add(run.FileIn(RunDirectory.ConfigFileName));
        written.Add(run.WriteMetrics(trainer, final));
        written.AddRange(Plots.WriteResults(run, trainer, final));
        PrintSummary(trainer, final, wall.Elapsed, written, files?.Train.LabelsPerStep == true);
        if (trainer.Step < trainer.ScheduledSteps)
            _context.Output.WriteLine($"stopped at step {trainer.Step} of {trainer.ScheduledSteps} (--max-steps); continue with: {resumeCommand}");
        return 0;
    }

    /// <summary>What a new run needs before its trainer exists; <see cref="Files"/> for a run on sequence files, else it reads images.</summary>
    private sealed record NewRunSetup(string Directory, string Recipe, TrainingOptions Options, LoadedModel? Init, string? InitPath, SequenceFiles? Files);

    private Trainer ImageTrainer(NewRunSetup? fresh, ResumableRun? saved, string? dataDir, ResumeChanges changes)
    {
        var (train, test) = DataLoading.Load(_context, (fresh?.Options ?? saved!.Options).Dataset, dataDir);
        return saved is null ? new Trainer(fresh!.Options, train, test, fresh.Init) : Trainer.Resume(saved, train, test, changes);
    }

    private static string Examples(Trainer trainer) => trainer.Sequence.ReadsImages ? "images" : "sequences";

    private NewRunSetup NewRun(ParseResult parsed)
    {
        Recipe recipe = parsed.GetValue(_recipe) is int index ? Recipe.All[index] : Recipe.Best;
        if (parsed.GetResult(_recipe)?.Tokens is [{ Value: var token }] && token.Equals(FormerNotebookName, StringComparison.OrdinalIgnoreCase))
            _context.Error.WriteLine($"note: --recipe {FormerNotebookName} is now called --recipe {Recipe.Notebook.Name}");

        string? initPath = parsed.GetValue(_init);
        LoadedModel? init = initPath is null ? null : ModelCheckpoint.Load(initPath);
        var overrides = new TrainingOverrides
        {
            Epochs = parsed.GetValue(_epochs),
            BatchSize = parsed.GetValue(_batchSize),
            Hidden = parsed.GetValue(_hidden),
            Layers = parsed.GetValue(_layers),
            LearningRate = parsed.GetValue(_lr),
            Schedule = parsed.GetValue(_schedule),
            ForgetBias = parsed.GetValue(_forgetBias),
            InputBias = parsed.GetValue(_inputBias),
            GateInit = parsed.GetValue(_gateInit),
            RefineGate = parsed.GetValue(_refineGate) ? true : parsed.GetValue(_noRefineGate) ? false : null,
            ClipNorm = parsed.GetValue(_clip),
            WeightDecay = parsed.GetValue(_weightDecay),
            Seed = parsed.GetValue(_seed),
            Threads = parsed.GetValue(_threads),
            Shuffle = parsed.GetValue(_noShuffle) ? false : null,
            MaxSteps = parsed.GetValue(_maxSteps),
            Validation = parsed.GetValue(_validation),
            Patience = parsed.GetValue(_patience),
            Augment = parsed.GetValue(_augment) ? true : parsed.GetValue(_noAugment) ? false : null,
            AugmentTest = parsed.GetValue(_augmentTest) ? true : null,
            LimitTrain = parsed.GetValue(_limitTrain),
            LimitTest = parsed.GetValue(_limitTest),
            View = parsed.GetValue(_sequence),
            Dataset = parsed.GetValue(_dataset),
        };
        string? data = parsed.GetValue(_data);
        TrainingOptions options = data is null ? overrides.Over(recipe, init) : overrides.OverForSequences(recipe, init);
        string directory = parsed.GetValue(_out) ?? Path.Combine("runs", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        SequenceFiles? files = data is null ? null : SequenceFiles.Read(data, parsed.GetValue(_test)!, parsed.GetValue(_classes));
        return new NewRunSetup(directory, recipe.Name, options, init, initPath, files);
    }

    private void PrintSummary(Trainer trainer, EvaluationResult final, TimeSpan wall, List<string> written, bool labelsPerStep)
    {
        var table = new Table().Title("smnist train").AddColumn("").AddColumn("");
        table.HideHeaders();
        string testSet = trainer.Options.AugmentTest ? "augmented test set" : "test set";
        table.AddRow("test accuracy", string.Create(CultureInfo.InvariantCulture, $"{final.Accuracy * 100:F2}% ({final.Samples} {(labelsPerStep ? "labelled steps" : Examples(trainer))}, {testSet})"));
        table.AddRow("test loss", final.Loss.ToString("F4", CultureInfo.InvariantCulture));
        if (trainer.BestEpoch is int best)
        {
            EpochReport epoch = trainer.History[best - 1];
            table.AddRow("validation", string.Create(CultureInfo.InvariantCulture,
                $"{epoch.ValidationAccuracy * 100:F2}%, loss {epoch.ValidationLoss:F4} ({trainer.ValidationCount} {Examples(trainer)}; best epoch {best}, whose weights are kept{(trainer.StoppedEarly ? "; stopped early" : "")})"));
        }
        table.AddRow("time", string.Create(CultureInfo.InvariantCulture, $"{trainer.TrainSeconds:F1} s training, {wall.TotalSeconds:F1} s in all"));
        table.AddRow("samples/s", trainer.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
        table.AddRow("steps", string.Create(CultureInfo.InvariantCulture, $"{trainer.Step} ({trainer.History.Count} epochs)"));
        table.AddRow("files", Markup.Escape(string.Join("\n", written.Distinct().Select(Path.GetFullPath))));
        _context.Console.Write(table);
    }

}
