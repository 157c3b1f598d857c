using System.Net;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Serve;

/// <summary>One server for a test class: the shipped model on a real Kestrel socket at 127.0.0.1, on a free port.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    internal ReadingServer Server { get; private set; } = null!;

    /// <summary>The committed test subset, which the server's /api/sample serves.</summary>
    public ImageSet TestImages { get; } = DataAcquisition.ReadDirectory(CliHarness.DataDir).Test;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, port: 0);
        Client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
    }
}
