using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Data.Acquisition;
using Smnist.Data.Strokes;
using Smnist.Tests.Cli;
using Smnist.Training;

namespace Smnist.Tests.Serve;

/// <summary>
/// The live pad's WebSocket, /api/live, from a program: what it reads, and its limits under garbage frames, too many
/// steps, too many connections, idle clients and other sites' pages (each limit shrunk so that it is reached at once).
/// </summary>
[Trait("Category", "command")]
public sealed class LiveTests
{
    private static readonly ImageSet TestImages = DataAcquisition.ReadDirectory(CliHarness.DataDir).Test;

    [Fact]
    public async Task StepsSentInPiecesReadAsTheWholePathIsRead()
    {
        await using ReadingServer server = await Start();
        using ClientWebSocket socket = await Connect(server);
        ModelChoice strokes = ShippedModels.Load(ShippedModels.StrokesName);
        var trace = new ReadingTrace(strokes.Loaded.Model, strokes.Loaded.Sequence);
        for (int index = 0; index < 3; index++)
        {
            trace.Read(TestImages.Image(index));
            float[] steps = StrokeEncoding.Encode(trace.Pen!);
            int count = steps.Length / StrokeEncoding.Features, read = 0, digit = -1;
            for (int from = 0; from < count; from += 7)
            {
                int to = Math.Min(count, from + 7);
                JsonNode answer = await Exchange(socket, StepsFrame(steps, from, to));
                Assert.Equal(to, (int)answer["steps_read"]!);
                JsonArray rows = answer["probabilities"]!.AsArray();
                Assert.Equal(to - from, rows.Count);
                foreach (JsonNode? row in rows)
                {
                    read++;
                    float[] expected = trace.StepProbabilities(read).ToArray();
                    float[] got = row!.AsArray().Select(v => (float)v!).ToArray();
                    for (int k = 0; k < expected.Length; k++)
                        Assert.Equal(expected[k], got[k], 1e-5f);
                }
                digit = (int)answer["digit"]!;
            }
            Assert.Equal(trace.Digit, digit);
            Assert.Equal(0, (int)(await Exchange(socket, """{"reset": true}"""))["steps_read"]!);
        }
    }

    public static TheoryData<string, string> GarbageFrames() => new()
    {
        { "not json", "not valid JSON" },
        { "{\"steps\": [[1, 0, 0, 0]", "not valid JSON" },
        { "[1, 2, 3]", "a frame is" },
        { "{\"pixels\": []}", "unknown property \"pixels\"" },
        { "{\"steps\": []}", "\"steps\" is empty" },
        { "{\"steps\": 5}", "must be an array of steps" },
        { "{\"steps\": [5]}", "step 0 must be an array" },
        { "{\"steps\": [[1, 0, 0]]}", "step 0 has 3 values" },
        { "{\"steps\": [[1, 0, 0, 0, 0]]}", "step 0 has more than 4 values" },
        { "{\"steps\": [[NaN, 0, 0, 0]]}", "not valid JSON" },
        { "{\"steps\": [[\"NaN\", 0, 0, 0]]}", "value 0 of step 0 is not a finite number" },
        { "{\"steps\": [[1e999, 0, 0, 0]]}", "value 0 of step 0 is not a finite number" },
        { "{\"steps\": [[1, 0, 0, 0], [0, 29, 0, 0]]}", "dy of step 1 is 29" },
        { "{\"steps\": [[1, 0, 0.5, 0]]}", "end_of_stroke of step 0 is 0.5; it must be 0 or 1" },
        { "{\"steps\": [[1, 0, 0, 0]], \"reset\": true}", "a frame has one property" },
        { "{\"reset\": false}", "\"reset\" must be true" },
        { "{\"steps\": [[1, 0, 0, 0]]} {}", "not valid JSON" },
        { "{\"steps\": [[[[1]]]]}", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(GarbageFrames))]
    public async Task AGarbageFrameGetsAnErrorAndChangesNothing(string frame, string message)
    {
        await using ReadingServer server = await Start();
        using ClientWebSocket socket = await Connect(server);
        JsonNode before = await Exchange(socket, """{"steps": [[1, -2, 0, 0], [1, 0, 0, 0]]}""");
        JsonNode error = await Exchange(socket, frame);
        Assert.Contains(message, (string)error["error"]!);
        Assert.Single(error.AsObject());
        // The connection still reads, from where it was.
        JsonNode after = await Exchange(socket, """{"steps": [[0, 1, 1, 0]]}""");
        Assert.Equal(3, (int)after["steps_read"]!);
        Assert.Equal(2, (int)before["steps_read"]!);
    }

    [Fact]
    public async Task ABinaryFrameGetsAnError()
    {
        await using ReadingServer server = await Start();
        using ClientWebSocket socket = await Connect(server);
        await socket.SendAsync(new byte[] { 0, 1, 2, 255 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        Assert.Equal("send text frames of JSON, not binary ones", (string)(await Receive(socket))["error"]!);
        Assert.Equal(1, (int)(await Exchange(socket, """{"steps": [[0, 0, 1, 0]]}"""))["steps_read"]!);
    }

    [Fact]
    public async Task AFrameOverTheSizeCapGetsAnErrorAndTheConnectionCloses()
    {
        var limits = new ServerLimits { LiveFrameBytes = 1024 };
        await using ReadingServer server = await Start(limits);
        using ClientWebSocket socket = await Connect(server);
        // Sent in pieces, as a client that streams a huge frame would: the server stops at its cap.
        byte[] piece = Encoding.UTF8.GetBytes(new string(' ', 600));
        await socket.SendAsync(piece, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await socket.SendAsync(piece, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        Assert.Equal("a frame is at most 1024 bytes; the connection is closed", (string)(await Receive(socket))["error"]!);
        await ExpectClose(socket, WebSocketCloseStatus.MessageTooBig);
        // A frame just under the cap is read.
        using ClientWebSocket next = await Connect(server);
        string frame = """{"steps": [[0, 0, 1, 0]]}""";
        Assert.Equal(1, (int)(await Exchange(next, frame.PadRight(1024)))["steps_read"]!);
    }

    [Fact]
    public async Task StepsBeyondTheModelsMaximumAreRefusedUntilAReset()
    {
        await using ReadingServer server = await Start();
        using ClientWebSocket socket = await Connect(server);
        int max = StrokeEncoding.MaxSteps;
        var steps = new float[(max - 1) * StrokeEncoding.Features];
        JsonNode full = await Exchange(socket, StepsFrame(steps, 0, max - 1));
        Assert.Equal(max - 1, (int)full["steps_read"]!);
        // Two more would pass the maximum: the whole frame is refused, not half read.
        JsonNode refused = await Exchange(socket, """{"steps": [[0, 0, 0, 0], [0, 0, 1, 0]]}""");
        Assert.Contains($"the digit would pass {max} steps, the most the model reads ({max - 1} read so far)", (string)refused["error"]!);
        Assert.Equal(max, (int)(await Exchange(socket, """{"steps": [[0, 0, 1, 0]]}"""))["steps_read"]!);
        Assert.Contains("would pass", (string)(await Exchange(socket, """{"steps": [[0, 0, 1, 0]]}"""))["error"]!);
        Assert.Equal(0, (int)(await Exchange(socket, """{"reset": true}"""))["steps_read"]!);
        Assert.Equal(1, (int)(await Exchange(socket, """{"steps": [[0, 0, 1, 0]]}"""))["steps_read"]!);
    }

    [Fact]
    public async Task ConnectionsBeyondTheLimitGet503UntilOneCloses()
    {
        var limits = new ServerLimits { LiveConnections = 2 };
        await using ReadingServer server = await Start(limits);
        using ClientWebSocket first = await Connect(server), second = await Connect(server);
        using var third = new ClientWebSocket();
        third.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(LiveUri(server), CancellationToken.None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.HttpStatusCode);
        Assert.Equal("1", third.HttpResponseHeaders!["Retry-After"].Single());

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        using ClientWebSocket again = await ConnectWhenFree(server);
        Assert.Equal(1, (int)(await Exchange(again, """{"steps": [[0, 0, 1, 0]]}"""))["steps_read"]!);
    }

    [Fact]
    public async Task AnIdleConnectionIsClosedWithItsReason()
    {
        var limits = new ServerLimits { LiveIdleTime = TimeSpan.FromMilliseconds(300) };
        await using ReadingServer server = await Start(limits);
        using ClientWebSocket socket = await Connect(server);
        await ExpectClose(socket, WebSocketCloseStatus.PolicyViolation);
        Assert.Equal("no frame for 0.3 s", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task APageOfAnotherSiteMayNotConnect()
    {
        await using ReadingServer server = await Start();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Origin", "http://attacker.example");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(LiveUri(server), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);

        using var own = new ClientWebSocket();
        own.Options.SetRequestHeader("Origin", server.Address.GetLeftPart(UriPartial.Authority));
        await own.ConnectAsync(LiveUri(server), CancellationToken.None);
        Assert.Equal(WebSocketState.Open, own.State);
    }

    [Fact]
    public async Task APlainRequestIsToldToUseAWebSocket()
    {
        await using ReadingServer server = await Start();
        using var client = new HttpClient { BaseAddress = server.Address };
        HttpResponseMessage response = await client.GetAsync("api/live");
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Contains("is a WebSocket", (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
    }

    [Fact]
    public async Task TheModelDescriptionNamesTheLiveModel()
    {
        await using ReadingServer server = await Start();
        using var client = new HttpClient { BaseAddress = server.Address };
        JsonNode live = JsonNode.Parse(await client.GetStringAsync("api/model"))!["live"]!;
        Assert.Equal("mnist-strokes", (string)live["name"]!);
        Assert.Equal(StrokeEncoding.MaxSteps, (int)live["max_steps"]!);
        Assert.Equal(StrokeEncoding.Features, (int)live["features"]!);
    }

    private static Task<ReadingServer> Start(ServerLimits? limits = null) =>
        ReadingServer.StartAsync(ShippedModels.Load(null), TestImages, IPAddress.Loopback, 0, limits);

    private static Uri LiveUri(ReadingServer server) => new($"ws://{server.Address.Authority}/api/live");

    private static async Task<ClientWebSocket> Connect(ReadingServer server)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(LiveUri(server), CancellationToken.None);
        return socket;
    }

    /// <summary>A connection once the server has counted a closed one out (its handler ends just after the close).</summary>
    private static async Task<ClientWebSocket> ConnectWhenFree(ReadingServer server)
    {
        for (int attempt = 0; ; attempt++)
        {
            var socket = new ClientWebSocket();
            try
            {
                await socket.ConnectAsync(LiveUri(server), CancellationToken.None);
                return socket;
            }
            catch (WebSocketException) when (attempt < 50)
            {
                socket.Dispose();
                await Task.Delay(20);
            }
        }
    }

    private static string StepsFrame(float[] steps, int from, int to)
    {
        IEnumerable<string> rows = Enumerable.Range(from, to - from).Select(t =>
            "[" + string.Join(", ", steps.AsSpan(t * StrokeEncoding.Features, StrokeEncoding.Features).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]");
        return $$"""{"steps": [{{string.Join(", ", rows)}}]}""";
    }

    private static async Task<JsonNode> Exchange(ClientWebSocket socket, string frame)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        return await Receive(socket);
    }

    private static async Task<JsonNode> Receive(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[1 << 16];
        int length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return JsonNode.Parse(buffer.AsSpan(0, length))!;
    }

    private static async Task ExpectClose(ClientWebSocket socket, WebSocketCloseStatus status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ValueWebSocketReceiveResult result = await socket.ReceiveAsync(new byte[256].AsMemory(), timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(status, socket.CloseStatus);
    }
}
