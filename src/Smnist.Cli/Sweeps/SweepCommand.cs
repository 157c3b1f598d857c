using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;
using Spectre.Console;

namespace Smnist.Cli.Sweeps;

/// <summary>
/// <c>smnist sweep plan|run|task|submit|report FILE</c>: many <c>smnist train</c> runs from one sweep file, run here
/// (<see cref="LocalSweep"/>), one by one under a scheduler (<c>task</c>, the one entry point every scheduler calls),
/// or as a Slurm job array, and summarised as mean ± std over seeds.
/// </summary>
internal static class SweepCommand
{
    /// <summary>Where <c>sweep run</c> writes the output of each run's task, in the run's folder.</summary>
    public const string TaskLogFileName = "task.log";

    public static Command Create(CliContext context)
    {
        var command = new Command("sweep", "Many training runs from one sweep file (configurations × seeds): plan them, run them here or as a Slurm job array, report mean ± std");
        command.Subcommands.Add(Plan(context));
        command.Subcommands.Add(Run(context));
        command.Subcommands.Add(Task(context));
        command.Subcommands.Add(Submit(context));
        command.Subcommands.Add(Report(context));
        command.SetAction(_ =>
        {
            context.Error.WriteLine("error: no sweep command given; use plan, run, task, submit or report (see 'smnist sweep --help')");
            return Cli.UsageError;
        });
        return command;
    }

    private static Argument<string> FileArgument() => new("FILE") { Description = "The sweep file (JSON: name, out, base, grid or runs, seeds)" };

    private static Command Plan(CliContext context)
    {
        var file = FileArgument();
        var command = new Command("plan", "List the sweep's runs, their state and the smnist train command of each") { file };
        command.SetAction(parsed =>
        {
            Sweep sweep = Sweep.Load(parsed.GetRequiredValue(file));
            int configurations = sweep.Configurations.Count, seeds = sweep.Runs.Count / configurations;
            string shape = sweep.Runs[0].Seed is null ? Count(configurations, "configuration") : $"{Count(configurations, "configuration")} × {Count(seeds, "seed")}";
            context.Output.WriteLine($"sweep {sweep.Name}: {Count(sweep.Runs.Count, "run")} ({shape}) in {sweep.OutDirectory}");
            foreach (SweepRun run in sweep.Runs)
            {
                string[] train = ["train", .. run.TrainArguments, "--out", run.Directory];
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.Index,4}  {RunStatus.Of(run).StateName,-11}  {run.Folder}  {context.Program} {string.Join(' ', train.Select(Cli.ShellWord))}"));
            }
            return 0;
        });
        return command;
    }

    private static Command Run(CliContext context)
    {
        var file = FileArgument();
        var jobs = CliOptions.Number("--jobs", "K", "Runs at a time; each gets its share of the processors as --threads, unless the sweep file sets threads", 1, 256, "default: 1");
        var command = new Command("run", "Run the sweep's unfinished runs on this machine, K at a time (each run's output goes to task.log in its folder)") { file, jobs };
        command.SetAction(parsed => LocalSweep.Run(context, Sweep.Load(parsed.GetRequiredValue(file)), parsed.GetValue(jobs) ?? 1));
        return command;
    }

    private static Command Task(CliContext context)
    {
        var file = FileArgument();
        var index = CliOptions.Number("--index", "I", "The run's number, from 0, as sweep plan lists it ($SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX)", 0, int.MaxValue);
        index.Required = true;
        var threads = CliOptions.Number("--threads", "N", "Worker threads of a run that starts here, unless the sweep file sets threads; a resumed run keeps its own", TrainingLimits.Threads, "default: one per processor");
        var command = new Command("task", "Run one run of the sweep: skipped when finished, resumed when interrupted; the command a scheduler's task calls") { file, index, threads };
        command.SetAction(parsed => RunTask(context, Sweep.Load(parsed.GetRequiredValue(file)), parsed.GetValue(index)!.Value, parsed.GetValue(threads)));
        return command;
    }

    private static Command Submit(CliContext context)
    {
        var file = FileArgument();
        var slurm = CliOptions.Flag("--slurm", "Submit to Slurm with sbatch, as a job array of one task per unfinished run");
        var partition = SlurmWord("--partition", "P", "The Slurm partition [default: the cluster's]");
        var time = SlurmWord("--time", "T", "Each task's time limit, in Slurm's form (2:00:00, 1-12:00:00); SIGTERM two minutes before it saves a checkpoint [default: the partition's]");
        var cpus = CliOptions.Number("--cpus", "C", "Processors per task (--cpus-per-task), and the threads of each run", 1, TrainingLimits.Threads.Max, "default: 1");
        var dryRun = CliOptions.Flag("--dry-run", "Print the sbatch script and submit nothing");
        var command = new Command("submit", "Submit the sweep's unfinished runs to a batch scheduler and print the job id") { file, slurm, partition, time, cpus, dryRun };
        command.Validators.Add(result =>
        {
            if (!result.GetValue(slurm))
                result.AddError("name the scheduler: --slurm (the one supported)");
        });
        command.SetAction(parsed =>
        {
            Sweep sweep = Sweep.Load(parsed.GetRequiredValue(file));
            int[] indices = [.. sweep.Runs.Where(r => RunStatus.Of(r).State is not (RunState.Finished or RunState.OtherConfiguration)).Select(r => r.Index)];
            if (indices.Length == 0)
            {
                context.Error.WriteLine($"all {sweep.Runs.Count} runs of sweep {sweep.Name} are finished; nothing to submit");
                return 0;
            }
            string script = SlurmScript.Create(sweep, indices, SelfCommand(), parsed.GetValue(cpus) ?? 1, parsed.GetValue(partition), parsed.GetValue(time));
            if (parsed.GetValue(dryRun))
            {
                context.Output.Write(script);
                return 0;
            }
            // Compute nodes often cannot reach the internet: the data is fetched here, into the shared cache.
            FetchData(context, sweep, indices);
            string folder = Path.Combine(sweep.OutDirectory, SlurmScript.FolderName);
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, SlurmScript.FileName);
            AtomicFile.WriteAllText(path, script);
            string job = SlurmScript.Submit(path);
            context.Output.WriteLine(job);
            context.Error.WriteLine($"submitted {indices.Length} runs of sweep {sweep.Name} as Slurm job array {job} ({path}); output in {folder}; then: {context.Program} sweep report {Cli.ShellWord(sweep.File)}");
            return 0;
        });
        return command;
    }

    private static Command Report(CliContext context)
    {
        var file = FileArgument();
        var json = CliOptions.Flag("--json", "Print one JSON object (per configuration and per run) and nothing else on stdout");
        var command = new Command("report", "Summarise the finished runs per configuration (mean ± sample std over seeds); write report.csv and report.png beside them") { file, json };
        command.SetAction(parsed =>
        {
            SweepReport report = SweepReport.Read(Sweep.Load(parsed.GetRequiredValue(file)));
            IReadOnlyList<string> files = report.Write();
            if (parsed.GetValue(json))
                context.Output.WriteLine(report.Json(files).ToJsonString());
            else
                Print(context, report, files);
            return 0;
        });
        return command;
    }

    /// <summary>The run <paramref name="index"/>: nothing when finished, <c>train --resume</c> when a checkpoint is there, else a new <c>train</c>.</summary>
    internal static int RunTask(CliContext context, Sweep sweep, int index, int? threads)
    {
        if (index >= sweep.Runs.Count)
            throw new SmnistException($"--index {index} is past the last run of {sweep.File} ({sweep.Runs.Count} runs, 0 to {sweep.Runs.Count - 1})");
        SweepRun run = sweep.Runs[index];
        RunStatus status = RunStatus.Of(run);
        string where = $"run {index} of {sweep.Runs.Count} ({run.Folder})";
        if (status.State == RunState.OtherConfiguration)
            throw new SmnistException($"{run.Directory} holds a run with {status.Detail}; move that folder away to run it again");
        // Not recorded as a failure: the run itself is fine, and going.
        if (status.State == RunState.Running)
            throw new SmnistException($"{where} is running in another process ({status.Detail}); wait for it to end");
        if (status.State == RunState.Finished)
        {
            context.Output.WriteLine($"{where}: finished before ({status.Detail}); nothing to do");
            return 0;
        }
        Directory.CreateDirectory(run.Directory);
        string failure = Path.Combine(run.Directory, RunStatus.FailureFileName);
        File.Delete(failure);
        bool resume = RunDirectory.HasCheckpoint(run.Directory);
        string[] threadArguments = threads is int count && !run.SetsThreads ? ["--threads", count.ToString(CultureInfo.InvariantCulture)] : [];
        string[] train = resume
            ? ["train", "--resume", run.Directory]
            : ["train", .. run.TrainArguments, .. threadArguments, "--out", run.Directory];
        context.Output.WriteLine($"{where}: {(resume ? "resuming" : "starting")}: {context.Program} {string.Join(' ', train.Select(Cli.ShellWord))}");

        var error = new LastLineWriter(context.Error);
        int exit = Cli.Run(train, context.Output, error, context.Interactive, context.Cancel, context.Program);
        if (exit is not (0 or Cli.Interrupted))
            AtomicFile.WriteAllText(failure, $"exit {exit}: {error.LastLine}\n");
        return exit;
    }

    /// <summary>
    /// How to start this smnist again from a scheduler or a child process: the host by its full path, since a node's
    /// PATH may differ (Program's printed commands say "dotnet" for people instead).
    /// </summary>
    internal static IReadOnlyList<string> SelfCommand()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, typeof(Cli).Assembly.GetName().Name + ".dll");
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet")
            return [process, dll];
        // The tool's shim or the one-file build: the process is smnist itself.
        if (process is not null && Assembly.GetEntryAssembly() == typeof(Cli).Assembly)
            return [process];
        // Hosted by another program (the tests): the SDK names its dotnet in DOTNET_HOST_PATH.
        return [Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", dll];
    }

    /// <summary>
    /// Fetches the data sets the new runs among <paramref name="indices"/> read from the cache (no data_dir), once,
    /// before any run starts: runs started together would otherwise all download it.
    /// </summary>
    internal static void FetchData(CliContext context, Sweep sweep, IEnumerable<int> indices)
    {
        var kinds = new HashSet<DatasetKind>();
        foreach (SweepRun run in indices.Select(i => sweep.Runs[i]))
        {
            if (RunDirectory.HasCheckpoint(run.Directory) || run.Settings.Any(s => s.Key == SweepKeys.DataDir))
                continue;
            string name = run.Settings.LastOrDefault(s => s.Key == SweepKeys.Dataset).Value?.GetValue<string>() ?? DatasetKindNames.NameOf(Recipe.Best.Options.Dataset);
            kinds.Add(DataLoading.Kinds.First(k => string.Equals(k.Key, name, StringComparison.OrdinalIgnoreCase)).Value);
        }
        foreach (DatasetKind kind in kinds)
            DataLoading.Load(context, kind, null);
    }

    private static void Print(CliContext context, SweepReport report, IReadOnlyList<string> files)
    {
        Sweep sweep = report.Sweep;
        var table = new Table().Title(Markup.Escape($"sweep {sweep.Name}: {sweep.Runs.Count} runs in {sweep.OutDirectory}"))
            .AddColumn("configuration").AddColumn("finished", c => c.RightAligned()).AddColumn("test accuracy (%)", c => c.RightAligned())
            .AddColumn("test loss", c => c.RightAligned()).AddColumn("train time (s)", c => c.RightAligned());
        foreach (ConfigurationSummary c in report.Configurations)
        {
            table.AddRow(Markup.Escape(c.Configuration), $"{c.Finished}/{c.Total}", c.TestAccuracy.Format("F2", 100), c.TestLoss.Format("F4"), c.TrainSeconds.Format("F1"));
        }
        context.Console.Write(table);
        context.Output.WriteLine("mean ± sample standard deviation (n − 1) over each configuration's finished runs; one run shows its value alone");
        var unfinished = report.Unfinished.ToList();
        if (unfinished.Count > 0)
        {
            context.Output.WriteLine($"not in the figures ({unfinished.Count}):");
            foreach (var (run, status) in unfinished)
                context.Output.WriteLine($"  {run.Index,4}  {run.Folder}: {status.StateName}{(status.Detail.Length > 0 ? $" ({status.Detail})" : "")}");
        }
        context.Output.WriteLine($"wrote {string.Join(", ", files)}");
    }

    private static string Count(int count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>A value that goes into the sbatch script as it is: a word of Slurm's characters, so no line of the script can break.</summary>
    private static Option<string?> SlurmWord(string name, string helpName, string description) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (token.Length > 0 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or ','))
                    return token;
                result.AddError($"{name} must be letters, digits and - _ . : , (got '{token}')");
                return null;
            },
        };

    /// <summary>Passes everything on to <paramref name="inner"/> and keeps the last line that was not empty (train's error line).</summary>
    private sealed class LastLineWriter(TextWriter inner) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public string LastLine { get; private set; } = "";

        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            inner.Write(value);
            if (value == '\n')
            {
                string line = _line.ToString().Trim();
                if (line.Length > 0)
                    LastLine = line;
                _line.Clear();
            }
            else
            {
                _line.Append(value);
            }
        }

        public override void Flush() => inner.Flush();
    }
}
