using Smnist.Cli;

// The first Ctrl+C asks training to stop after the current step and save a checkpoint; a second one ends the
// process at once, as usual.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested)
        return;
    e.Cancel = true;
    interrupt.Cancel();
};

return Cli.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, interrupt.Token, ThisProgram());

// The command that started this process, so that a printed command runs as it is: under `dotnet run` or
// `dotnet smnist.dll` there may be no smnist on the PATH. (Not Assembly.Location: a one-file build has none.)
static string ThisProgram() => Environment.ProcessPath switch
{
    null => "smnist",
    string process when Path.GetFileNameWithoutExtension(process) == "dotnet" => $"dotnet {Cli.ShellWord(Path.Combine(AppContext.BaseDirectory, typeof(Cli).Assembly.GetName().Name + ".dll"))}",
    string process => Cli.ShellWord(process),
};
