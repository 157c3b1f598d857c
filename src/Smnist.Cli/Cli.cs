using System.CommandLine;
using System.CommandLine.Invocation;
using Spectre.Console;

namespace Smnist.Cli;

/// <summary>What a command needs from its surroundings; tests pass string writers and a token of their own.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, bool interactive, CancellationToken cancel, string program)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>True on a terminal: progress bars and colour. False when output is redirected: plain lines.</summary>
    public bool Interactive { get; } = interactive;

    /// <summary>Cancelled by Ctrl+C: training stops after the current step and saves a checkpoint.</summary>
    public CancellationToken Cancel { get; } = cancel;

    /// <summary>How to start this program again, for the commands it prints (such as the one that resumes a run).</summary>
    public string Program { get; } = program;

    /// <summary>Spectre console over <see cref="Output"/>, for tables and progress.</summary>
    public IAnsiConsole Console { get; } = CreateConsole(output, interactive);

    private static IAnsiConsole CreateConsole(TextWriter output, bool interactive)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        // Redirected output has no width to fit; a log or file reads best without tables wrapped at 80 columns.
        if (!interactive)
            console.Profile.Width = 160;
        return console;
    }
}

/// <summary>The smnist command line: parsing, dispatch, and the rule that every failure is one line on stderr.</summary>
public static class Cli
{
    /// <summary>Exit code for an invalid command line.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a problem the user can act on (a missing or corrupt file, ...).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for a bug: anything that is not a <see cref="SmnistException"/>.</summary>
    public const int InternalError = 70;

    /// <summary>Exit code when training was interrupted by Ctrl+C (130 = 128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code when training was stopped by SIGTERM (128 + 15), after saving as for Ctrl+C.</summary>
    public const int Terminated = 143;

    /// <summary>Exit code when training was stopped by SIGHUP (128 + 1), after saving as for Ctrl+C.</summary>
    public const int HungUp = 129;

    /// <summary>
    /// True while training runs, which stops after its current step when cancelled; at any other time an
    /// interrupting signal ends the process at once, as it would without handlers.
    /// </summary>
    internal static volatile bool StopsGracefully;

    private static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces with errors",
        Recursive = true,
        Arity = ArgumentArity.Zero,
    };

    /// <summary>
    /// Runs one command line. <paramref name="interactive"/> selects progress bars over plain lines;
    /// <paramref name="program"/> is how the printed commands start.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, bool interactive = false, CancellationToken cancel = default, string program = "smnist")
    {
        var context = new CliContext(output, error, interactive, cancel, program);
        var root = new RootCommand("smnist: LSTM networks on sequential MNIST, trained by a hand-written engine (no ML runtime).")
        {
            TrainCommand.Create(context),
            EvalCommand.Create(context),
            PredictCommand.Create(context),
            BenchCommand.Create(context),
            ExportCommand.Create(context),
            ExplainCommand.Create(context),
            ServeCommand.Create(context),
        };
        root.Options.Add(Verbose);
        root.SetAction(_ =>
        {
            error.WriteLine("error: no command given; use train, eval, predict, bench, export, explain or serve (see 'smnist --help')");
            return UsageError;
        });

        ParseResult parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            string command = parsed.CommandResult.Command == root ? "smnist" : $"smnist {parsed.CommandResult.Command.Name}";
            string problems = string.Join("; ", parsed.Errors.Select(e => SmnistException.OneLine(e.Message)));
            error.WriteLine($"error: {problems} (see '{command} --help')");
            return UsageError;
        }

        bool verbose = parsed.GetValue(Verbose);
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (SmnistException e)
        {
            error.WriteLine($"error: {SmnistException.OneLine(e.Message)}");
            if (verbose)
                error.WriteLine(e);
            return Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file or folder the command could not read or write; the message names it.
            error.WriteLine($"error: {SmnistException.OneLine(e.Message)}");
            if (verbose)
                error.WriteLine(e);
            return Failure;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal error, {e.GetType().Name}: {SmnistException.OneLine(e.Message)}{(verbose ? "" : " (run with --verbose for the stack trace)")}");
            if (verbose)
                error.WriteLine(e);
            return InternalError;
        }
    }

    /// <summary><paramref name="word"/> as one word for a POSIX shell: in single quotes unless every character is plainly safe.</summary>
    internal static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_-./:=@%+,".Contains(c))
            ? word
            : $"'{word.Replace("'", "'\\''")}'";
}
