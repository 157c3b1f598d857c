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

return Cli.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, interrupt.Token);
