using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Tests.Cli;

namespace Smnist.Tests.Serve;

/// <summary>
/// The server under hostile requests: its limits (shrunk per test so that they are reached at once), the Host
/// check, the methods, and what its answers never contain.
/// </summary>
[Trait("Category", "command")]
public sealed class ServerLimitTests : IDisposable
{
    private static readonly ImageSet TestImages = DataAcquisition.ReadDirectory(CliHarness.DataDir).Test;

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task HeadersThatDeclareLargeBodiesHoldNoMemory()
    {
        // A budget of one 2 MB body: if declared lengths reserved memory, the second such request would fill it.
        var limits = new ServerLimits { BufferBytes = 2 << 20 };
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0, limits);
        var sockets = new List<Socket>();
        try
        {
            for (int k = 0; k < 20; k++)
                sockets.Add(await SendHeadersOnly(server.Address, "image/png", limits.MaxBodyBytes));
            await Task.Delay(200);
            await AssertAllBuffersReturned(server);
            using var client = new HttpClient { BaseAddress = server.Address };
            HttpResponseMessage response = await PostPixels(client, "api/read?gates=true");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            sockets.ForEach(socket => socket.Dispose());
        }
    }

    [Fact]
    public async Task ReadsBeyondTheTurnsWaitThenGet503WithRetryAfter()
    {
        var limits = new ServerLimits { ReadsAtOnce = 1, MaxWait = TimeSpan.Zero };
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load("mnist-pixels"), TestImages, IPAddress.Loopback, 0, limits);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32 }) { BaseAddress = server.Address };
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(k => client.GetAsync($"api/sample?index={k}&gates=true")));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        HttpResponseMessage busy = responses.First(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        Assert.StartsWith("the server is busy (all 1 reads were busy", await ErrorOf(busy));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        await AssertAllBuffersReturned(server);
    }

    [Fact]
    public async Task AnAnswerLargerThanTheBufferBudgetGets503AndTheBudgetIsGivenBack()
    {
        // The pixel model's answer with gates is about 3 MB; a 1 MB budget cannot hold it, and holds a plain answer.
        var limits = new ServerLimits { BufferBytes = 1 << 20 };
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load("mnist-pixels"), TestImages, IPAddress.Loopback, 0, limits);
        using var client = new HttpClient { BaseAddress = server.Address };
        HttpResponseMessage large = await client.GetAsync("api/sample?index=0&gates=true");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, large.StatusCode);
        Assert.NotNull(large.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/sample?index=0")).StatusCode);
        await AssertAllBuffersReturned(server);
    }

    [Fact]
    public async Task ThePixelModelsGatesComeToFourDecimalsInUnderFourMegabytes()
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load("mnist-pixels"), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        HttpResponseMessage response = await client.GetAsync("api/sample?index=0&gates=true");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < 4_000_000, $"{body.Length} bytes");
        using JsonDocument answer = JsonDocument.Parse(body);
        foreach (string key in new[] { "forget", "input_gate", "output", "cell", "refine" })
        {
            JsonElement rows = answer.RootElement.GetProperty(key);
            Assert.Equal(784, rows.GetArrayLength());
            Assert.All(rows.EnumerateArray().SelectMany(row => row.EnumerateArray()), value =>
                Assert.True(value.GetRawText().Split('.') is [_] or [_, { Length: <= TraceJson.GateDecimals }], value.GetRawText()));
        }
    }

    [Fact]
    public async Task ADecodeThatRunsOutOfTimeIsStoppedWith400()
    {
        // A JPEG within the scan limit that still takes a while: 99 scans of a 4096×4096 image, 1 ms allowed.
        var limits = new ServerLimits { MaxDecodeTime = TimeSpan.FromMilliseconds(1) };
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0, limits);
        using var client = new HttpClient { BaseAddress = server.Address };
        using var content = new ByteArrayContent(HostileImages.JpegScanBomb(4096, 4096, acScans: ImageFile.MaxJpegScans - 1));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        HttpResponseMessage response = await client.PostAsync("api/read", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("the image took more than 0.001 s to decode", await ErrorOf(response));
    }

    [Theory]
    [InlineData("image/jpeg")]
    [InlineData("image/jpg")]
    public async Task AJpegIsReadUnderEitherMediaType(string mediaType)
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        using var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "seven-upright.jpg")));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        HttpResponseMessage response = await client.PostAsync("api/read", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ImageBombsSentToTheServerAreRefusedQuickly()
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(20) };
        foreach ((byte[] bomb, string type, string expected) in new[]
        {
            (HostileImages.GreyPng(1, 1, inflatedBytes: 256L << 20), "image/png", "unpacks to more than the 2 bytes"),
            (HostileImages.JpegScanBomb(4096, 4096, acScans: 3000), "image/jpeg", "more than 100 scans"),
        })
        {
            Assert.True(bomb.Length <= ServerLimits.Default.MaxBodyBytes, $"{bomb.Length} bytes");
            using var content = new ByteArrayContent(bomb);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            HttpResponseMessage response = await client.PostAsync("api/read", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, await ErrorOf(response));
        }
    }

    [Fact]
    public void AModelThatDoesNotReadImagesIsRefusedAtStartInOneLine()
    {
        string path = _directory["waves.safetensors"];
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(InputSize: 3, HiddenSize: 4, Layers: 1, Classes: 10), seed: 1);
        ModelCheckpoint.Save(path, model, SequenceLayout.Custom(steps: 9, features: 3));
        // Were the model accepted, the server would run until this token stops it.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        CliHarness.Outcome outcome = CliHarness.Run(stop.Token, "serve", "--model", path, "--port", "0", "--data-dir", CliHarness.DataDir);
        Assert.Equal(Smnist.Cli.Cli.Failure, outcome.Exit);
        Assert.Equal($"error: {path}: the model reads its own sequences of 9 × 3 values, not images; serve shows images", outcome.Err.Trim());
    }

    [Fact]
    public async Task TheModelFileIsNamedWithoutItsFolder()
    {
        string path = _directory["my-model.safetensors"];
        ModelChoice shipped = ShippedModels.Load(null);
        ModelCheckpoint.Save(path, shipped.Loaded.Model, shipped.Loaded.Sequence);
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(path), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        string model = await client.GetStringAsync("api/model");
        Assert.Equal("my-model.safetensors", JsonDocument.Parse(model).RootElement.GetProperty("name").GetString());
        Assert.DoesNotContain(_directory.Path, model);
    }

    [Theory]
    [InlineData("", "GET, HEAD")]
    [InlineData("healthz", "GET, HEAD")]
    [InlineData("api/model", "GET, HEAD")]
    [InlineData("app.js", "GET, HEAD")]
    [InlineData("api/read", "POST")]
    public async Task HeadAnswersLikeGetAndOtherMethodsGet405WithAllow(string path, string allow)
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        if (allow.StartsWith("GET", StringComparison.Ordinal))
        {
            HttpResponseMessage get = await client.GetAsync(path);
            HttpResponseMessage head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
        foreach (HttpMethod method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Options, HttpMethod.Patch, allow == "POST" ? HttpMethod.Get : HttpMethod.Post })
        {
            HttpResponseMessage response = await client.SendAsync(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
            Assert.DoesNotContain('\n', await ErrorOf(response));
        }
    }

    [Theory]
    [InlineData("evil.example", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    public async Task OnlyRequestsThatNameThisServerInTheirHostAreAnswered(string host, bool answered)
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        foreach (string path in new[] { "", "api/model", "healthz" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = $"{host}:{server.Address.Port}";
            HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(answered ? HttpStatusCode.OK : HttpStatusCode.Forbidden, response.StatusCode);
            if (!answered)
                Assert.Contains($"not to the host '{host}'", await ErrorOf(response));
        }
    }

    [Fact]
    public async Task TheApiIsNeverCachedAndErrorsCarryNoDotnetText()
    {
        await using var server = await ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0);
        using var client = new HttpClient { BaseAddress = server.Address };
        foreach (string path in new[] { "api/model", "healthz", "api/sample?index=1" })
            Assert.True((await client.GetAsync(path)).Headers.CacheControl?.NoStore, path);
        Assert.False((await client.GetAsync("")).Headers.CacheControl?.NoStore);

        foreach (string body in new[] { "{\"pixels\": [0.5,", "xx", "{\"pixels\": [1e999]}" })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            HttpResponseMessage response = await client.PostAsync("api/read", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            string error = await ErrorOf(response);
            foreach (string dotnet in new[] { "LineNumber", "BytePositionInLine", "Exception", "System." })
                Assert.DoesNotContain(dotnet, error);
        }
    }

    /// <summary>A client can have its whole answer a moment before the server returns the answer's buffer.</summary>
    private static async Task AssertAllBuffersReturned(ReadingServer server)
    {
        for (int wait = 0; wait < 100 && server.BufferedBytes != 0; wait++)
            await Task.Delay(20);
        Assert.Equal(0, server.BufferedBytes);
    }

    private static async Task<HttpResponseMessage> PostPixels(HttpClient client, string url)
    {
        using var content = new ByteArrayContent(ApiTests.PixelsBody(TestImages.Image(0)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await client.PostAsync(url, content);
    }

    /// <summary>A connection that sends a POST's headers declaring <paramref name="length"/> bytes, and no body.</summary>
    internal static async Task<Socket> SendHeadersOnly(Uri server, string contentType, int length)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /api/read HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nContent-Type: {contentType}\r\nContent-Length: {length}\r\n\r\n"));
        return socket;
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("error").GetString()!;
    }
}
