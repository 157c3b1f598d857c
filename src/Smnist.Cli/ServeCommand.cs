using System.CommandLine;
using System.Net;
using Smnist.Cli.Serve;
using Smnist.Data;

namespace Smnist.Cli;

/// <summary><c>smnist serve</c>: the draw-a-digit page and its JSON API, on 127.0.0.1 unless told otherwise.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.ModelOption();
        var host = new Option<IPAddress?>("--host")
        {
            HelpName = "ADDRESS",
            Description = "Address to listen on: 127.0.0.1 keeps the page to this machine; 0.0.0.0 opens it to every network this machine is on [default: 127.0.0.1]",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (token.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                    return IPAddress.Loopback;
                if (IPAddress.TryParse(token, out IPAddress? address))
                    return address;
                result.AddError($"--host must be an IP address such as 127.0.0.1 or 0.0.0.0, or localhost (got '{token}')");
                return null;
            },
        };
        var port = CliOptions.Number("--port", "N", "TCP port to listen on; 0 for any free port", 0, 65535, "default: 8000");
        var dataDir = DataLoading.DataDirOption();

        var command = new Command("serve", "Serve a page where you draw a digit and watch the network read it, with its JSON API") { model, host, port, dataDir };
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetValue(model));
            ImageSet? test = null;
            try
            {
                test = DataLoading.Load(context, DatasetKind.Mnist, parsed.GetValue(dataDir)).Test;
            }
            catch (SmnistException e)
            {
                context.Error.WriteLine($"warning: no test images for the sample button ({SmnistException.OneLine(e.Message)})");
            }

            IPAddress address = parsed.GetValue(host) ?? IPAddress.Loopback;
            if (!IPAddress.IsLoopback(address))
                context.Error.WriteLine($"warning: listening on {address}: anyone who can reach this machine there can use the page and its API (they read no files)");
            ReadingServer server = ReadingServer.StartAsync(choice, test, address, parsed.GetValue(port) ?? 8000, log: context.Error).GetAwaiter().GetResult();
            try
            {
                string open = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
                    ? $"listening on every network interface at port {server.Address.Port}; on this machine open http://127.0.0.1:{server.Address.Port}/"
                    : $"open {server.Address}";
                context.Output.WriteLine($"serving {choice.Name} ({choice.Loaded.Sequence.Name}), and {server.LiveModelName} on the live pad: {open}  (Ctrl+C stops)");
                context.Output.Flush();
                // Ctrl+C comes through the command's token; SIGTERM (a service manager, docker stop) stops the host itself.
                WaitHandle.WaitAny([context.Cancel.WaitHandle, server.Stopping.WaitHandle]);
                context.Error.WriteLine("stopping");
                server.StopAsync().GetAwaiter().GetResult();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return context.Cancel.IsCancellationRequested ? Cli.Interrupted : 0;
        });
        return command;
    }
}
