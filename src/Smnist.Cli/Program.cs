using System.Runtime.InteropServices;
using Smnist.Cli;

// Ctrl+C, and the SIGTERM and SIGHUP that `timeout`, `docker stop`, systemd and batch schedulers send, ask training
// to stop after the current step and save a checkpoint; the exit code is then 128 + the signal's number, as shells
// report it. A second signal, or one outside training, ends the process at once, as usual.
using var interrupt = new CancellationTokenSource();
int interruptExit = Cli.Interrupted;
void Stop(PosixSignalContext signal, int exitCode)
{
    if (interrupt.IsCancellationRequested || !Cli.StopsGracefully)
        return;
    signal.Cancel = true;
    interruptExit = exitCode;
    interrupt.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, s => Stop(s, Cli.Interrupted));
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, s => Stop(s, Cli.Terminated));
using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, s => Stop(s, Cli.HungUp));

int exit = Cli.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, interrupt.Token, ThisProgram());
return exit == Cli.Interrupted ? interruptExit : exit;

// The command that started this process, so that a printed command runs as it is: under `dotnet run` or
// `dotnet smnist.dll` there may be no smnist on the PATH. (Not Assembly.Location: a one-file build has none.)
static string ThisProgram() => Environment.ProcessPath switch
{
    null => "smnist",
    string process when Path.GetFileNameWithoutExtension(process) == "dotnet" => $"dotnet {Cli.ShellWord(Path.Combine(AppContext.BaseDirectory, typeof(Cli).Assembly.GetName().Name + ".dll"))}",
    string process => Cli.ShellWord(process),
};
