using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Tests.Cli;
using Xunit.Abstractions;

namespace Smnist.Tests.Serve;

/// <summary>
/// <c>smnist serve</c> under load, on loopback, as its own process: the resident memory measured (VmRSS and its
/// peak VmHWM, from /proc/PID/status) is the server's alone, as a user runs it, and not the test host's, whose
/// other tests allocate in parallel. The process runs with its garbage-collected heap capped at
/// <see cref="ServerLimits.MemoryCeilingBytes"/> (DOTNET_GCHeapHardLimit), as a container's limit would cap it:
/// memory committed but not yet touched, which RSS does not show (a buffer sized from Content-Length), ends the
/// server with "Out of memory" there. Each case must keep the peak RSS under the ceiling and leave the server
/// answering.
/// </summary>
[Trait("Category", "slow")]
public sealed partial class LoadTests(ITestOutputHelper output) : IDisposable
{
    private static readonly ImageSet TestImages = DataAcquisition.ReadDirectory(CliHarness.DataDir).Test;

    private Process? _server;

    public void Dispose()
    {
        if (_server is { HasExited: false })
            _server.Kill();
        _server?.Dispose();
    }

    [SkippableFact]
    public async Task AThousandRequestsThatSendOnlyHeadersOfTwoMegabytesHoldNoMemory()
    {
        Uri address = StartServer();
        using var client = Client(address);
        long before = Memory().Rss;
        var sockets = new List<Socket>();
        try
        {
            for (int k = 0; k < 1000; k++)
                sockets.Add(await ServerLimitTests.SendHeadersOnly(address, "image/png", ServerLimits.Default.MaxBodyBytes));
            await Task.Delay(500);
            (long held, _) = Memory();

            // Normal traffic while the thousand connections wait for their bodies.
            for (int k = 0; k < 20; k++)
                Assert.Equal(HttpStatusCode.OK, (await Read(client, k, gates: k % 2 == 0)).StatusCode);
            (long after, long peak) = Memory();
            Report("1,000 header-only 2 MB requests, then 20 reads", before, held, after, peak);
            Assert.True(peak < ServerLimits.MemoryCeilingBytes, $"peak {peak >> 20} MB");
            Assert.True(held - before < 200 << 20, $"the waiting connections took {(held - before) >> 20} MB");
        }
        finally
        {
            sockets.ForEach(socket => socket.Dispose());
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
    }

    [SkippableFact]
    public async Task ThreeHundredConcurrentReadsWithGatesOnThePixelModelStayUnderTheCeiling()
    {
        Uri address = StartServer();
        using var client = Client(address);
        long before = Memory().Rss;
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(k => Task.Run(() => Read(client, k, gates: true))));
        (long after, long peak) = Memory();
        int answered = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        int busy = responses.Count(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"300 concurrent reads with gates: {answered} answered, {busy} told to retry (503)");
        Report("300 concurrent reads with gates (pixel model)", before, after, after, peak);

        Assert.Equal(300, answered + busy);
        Assert.True(answered >= 2 * ServerLimits.Default.ReadsAtOnce, $"{answered} answered");
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable), r => Assert.NotNull(r.Headers.RetryAfter));
        Assert.True(peak < ServerLimits.MemoryCeilingBytes, $"peak {peak >> 20} MB");
        Assert.Equal(HttpStatusCode.OK, (await Read(client, 0, gates: true)).StatusCode);
    }

    /// <summary>Starts <c>smnist serve</c> with the pixel model (the largest answers) on a free port; its address.</summary>
    private Uri StartServer()
    {
        Skip.IfNot(File.Exists("/proc/self/status"), "the server's memory is read from /proc (Linux)");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "smnist.dll"), "serve", "--model", "mnist-pixels", "--port", "0", "--data-dir", CliHarness.DataDir })
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_GCHeapHardLimit"] = $"0x{ServerLimits.MemoryCeilingBytes:X}";
        _server = Process.Start(start)!;
        string line = _server.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"smnist serve ended: {_server.StandardError.ReadToEnd()}");
        Match open = OpenAddress().Match(line);
        Assert.True(open.Success, line);
        return new Uri(open.Groups[1].Value);
    }

    private static HttpClient Client(Uri address) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>POST /api/read of test image <paramref name="k"/> as JSON pixels; the answer read to its end.</summary>
    private static async Task<HttpResponseMessage> Read(HttpClient client, int k, bool gates)
    {
        using var content = new ByteArrayContent(ApiTests.PixelsBody(TestImages.Image(k % TestImages.Count)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response = await client.PostAsync(gates ? "api/read?gates=true" : "api/read", content);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>The server's resident memory now and its peak so far, in bytes.</summary>
    private (long Rss, long Peak) Memory()
    {
        string[] status = File.ReadAllLines($"/proc/{_server!.Id}/status");
        long Field(string name) => long.Parse(status.First(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0]) * 1024;
        return (Field("VmRSS:"), Field("VmHWM:"));
    }

    private void Report(string load, long before, long during, long after, long peak) =>
        output.WriteLine($"{load}: RSS {before >> 20} MB before, {during >> 20} MB held, {after >> 20} MB after, peak {peak >> 20} MB (ceiling {ServerLimits.MemoryCeilingBytes >> 20} MB)");

    [GeneratedRegex(@"open (http://\S+/)")]
    private static partial Regex OpenAddress();
}
