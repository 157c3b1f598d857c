using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.Tests.Cli;
using Smnist.Training;

namespace Smnist.Tests.Serve;

/// <summary>The JSON API of smnist serve, over a real socket.</summary>
[Trait("Category", "command")]
public sealed class ApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task HealthAndModelDescribeTheServer()
    {
        JsonNode health = await GetJson("healthz", HttpStatusCode.OK);
        Assert.Equal("ok", (string?)health["status"]);
        JsonNode model = await GetJson("api/model", HttpStatusCode.OK);
        Assert.Equal(ShippedModels.DefaultName, (string?)model["name"]);
        Assert.Equal("rows", (string?)model["sequence"]);
        Assert.Equal(28, (int)model["steps"]!);
        Assert.Equal(128, (int)model["hidden_size"]!);
        Assert.True((bool)model["refine_gate"]!); // the shipped mnist-rows is a UR-LSTM
        Assert.Equal(fixture.TestImages.Count, (int)model["test_images"]!);
    }

    [Fact]
    public async Task TestImagesReadAsPngGiveWhatPredictGives()
    {
        using var files = CliHarness.TempDir();
        var paths = new List<string>();
        for (int k = 0; k < 12; k++)
        {
            string path = files[$"test-{k}.png"];
            CliHarness.WritePng(path, ToRgb(fixture.TestImages.Image(k)), 28, 28);
            paths.Add(path);
        }
        JsonNode predicted = JsonNode.Parse(CliHarness.Succeeds(["predict", "--json", .. paths]).Out)!;
        for (int k = 0; k < paths.Count; k++)
        {
            JsonNode expected = predicted["predictions"]![k]!;
            JsonNode read = await PostJson("api/read", File.ReadAllBytes(paths[k]), "image/png");
            Assert.Equal((int)expected["digit"]!, (int)read["digit"]!);
            AssertClose(Floats(expected["probabilities"]!), Floats(read["probabilities"]!), 1e-5f);

            // The same image as JSON pixels goes through the same preparation.
            JsonNode fromPixels = await PostJson("api/read", PixelsBody(fixture.TestImages.Image(k)), "application/json");
            Assert.Equal(Floats(read["probabilities"]!), Floats(fromPixels["probabilities"]!));
            Assert.Equal(Floats(read["input"]!), Floats(fromPixels["input"]!));
        }
    }

    [Fact]
    public async Task TheTracesLastStepIsTheModelsOutput()
    {
        ModelChoice model = ShippedModels.Load(null);
        for (int k = 0; k < 5; k++)
        {
            JsonNode read = await PostJson("api/read", PixelsBody(fixture.TestImages.Image(k)), "application/json");
            float[] input = Floats(read["input"]!);
            Assert.Equal(ImageSet.Pixels, input.Length);
            byte[] asRead = input.Select(v => (byte)Math.Round(v * 255)).ToArray();
            float[] output = Predictor.Probabilities(model.Loaded.Model, model.Loaded.Sequence, asRead);

            JsonArray steps = read["steps"]!.AsArray();
            Assert.Equal(28, steps.Count);
            float[] last = Floats(steps[^1]!["probabilities"]!);
            AssertClose(output, last, 1e-5f);
            Assert.Equal(Floats(read["probabilities"]!), last);
            int decided = (int)read["decided_at"]!;
            Assert.InRange(decided, 1, 28);
            for (int t = decided; t <= 28; t++)
                Assert.Equal((int)read["digit"]!, ArgMax(Floats(steps[t - 1]!["probabilities"]!)));
        }
    }

    [Fact]
    public async Task GatesComeOnlyWhenAskedForOneRowPerStep()
    {
        byte[] body = PixelsBody(fixture.TestImages.Image(1));
        JsonNode plain = await PostJson("api/read", body, "application/json");
        Assert.Null(plain["forget"]);
        JsonNode withGates = await PostJson("api/read?gates=true", body, "application/json");
        foreach (string key in new[] { "forget", "input_gate", "output", "cell" })
        {
            JsonArray rows = withGates[key]!.AsArray();
            Assert.Equal(28, rows.Count);
            Assert.All(rows, row => Assert.Equal(128, row!.AsArray().Count));
        }
        Assert.All(withGates["forget"]!.AsArray().SelectMany(row => Floats(row!)), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public async Task SampleGivesTheTestImageItsLabelAndPredictsAnswer()
    {
        for (int k = 0; k < 3; k++)
        {
            JsonNode sample = await GetJson($"api/sample?index={k}", HttpStatusCode.OK);
            Assert.Equal(k, (int)sample["index"]!);
            Assert.Equal(fixture.TestImages.Labels[k], (int)sample["label"]!);
            Assert.Equal(fixture.TestImages.Image(k).ToArray().Select(p => p / 255f), Floats(sample["input"]!));
            JsonNode predicted = JsonNode.Parse(CliHarness.Succeeds("predict", "--index", $"{k}", "--data-dir", CliHarness.DataDir, "--json").Out)!;
            Assert.Equal((int)predicted["predictions"]![0]!["digit"]!, (int)sample["digit"]!);
        }
        await GetJson($"api/sample?index={fixture.TestImages.Count}", HttpStatusCode.NotFound);
        await GetJson("api/sample?index=-1", HttpStatusCode.BadRequest);
        await GetJson("api/sample", HttpStatusCode.BadRequest);
    }

    public static TheoryData<string, string, int> BadRequests() => new()
    {
        { "text/plain", "7", 415 },
        { "image/gif", "GIF89a", 415 },
        { "application/json", "{\"pixels\": [0.5,", 400 },
        { "application/json", "[1, 2, 3]", 400 },
        { "application/json", "{\"pixels\": [0.5, 0.5]}", 400 },
        { "application/json", Pixels("\"NaN\""), 400 },
        { "application/json", Pixels("1.5"), 400 },
        { "application/json", Pixels("-0.25"), 400 },
        { "application/json", Pixels("0"), 400 }, // nothing drawn: no digit
        { "image/png", "not a png", 400 },
        { "image/jpeg", "\u00ff\u00d8 not a jpeg", 400 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputGetsOneLineOfJsonAndTheServerKeepsServing(string contentType, string body, int status)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        await AssertError(await Client.PostAsync("api/read", content), status);
        await GetJson("healthz", HttpStatusCode.OK);
    }

    [Fact]
    public async Task BodiesOverTwoMegabytesGet413WithOrWithoutALength()
    {
        // Expect: 100-continue, as careful clients send large bodies: the server can refuse before the upload,
        // instead of closing the connection while the client is still sending.
        byte[] large = new byte[ServerLimits.Default.MaxBodyBytes + 1];
        using (var sized = new ByteArrayContent(large))
        {
            sized.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/read") { Content = sized };
            request.Headers.ExpectContinue = true;
            await AssertError(await Client.SendAsync(request), 413);
        }
        using (var streamed = new StreamContent(new NoLengthStream(large)))
        {
            streamed.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/read") { Content = streamed };
            request.Headers.TransferEncodingChunked = true;
            request.Headers.ExpectContinue = true;
            await AssertError(await Client.SendAsync(request), 413);
        }
        using var noType = new ByteArrayContent([1, 2, 3]);
        await AssertError(await Client.PostAsync("api/read", noType), 415);
        await AssertError(await Client.GetAsync("api/read"), 405);
        using var json = new StringContent(Pixels("0.5"), Encoding.UTF8, "application/json");
        await AssertError(await Client.PostAsync("api/read?gates=maybe", json), 400);
        await GetJson("healthz", HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("Serve/Page/")]
    [InlineData("page/")]
    [InlineData("models/mnist-rows.safetensors")]
    public async Task NothingButThePageIsServed(string path)
    {
        HttpResponseMessage response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ThePageAndItsAssetsComeFromTheServer()
    {
        string page = await Client.GetStringAsync("");
        foreach (string id in new[] { "id=\"pad\"", "id=\"clear\"", "id=\"sample\"", "id=\"upload\"", "id=\"prediction\"" })
            Assert.Contains(id, page);
        Assert.DoesNotContain("https://", page);
        foreach (string asset in new[] { "app.js", "chart.js", "live.js", "app.css", "favicon.svg" })
        {
            HttpResponseMessage response = await Client.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("https://", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task TwoHundredConcurrentRequestsAllGetTheirOwnAnswer()
    {
        const int images = 20, requests = 200;
        var expected = new float[images][];
        for (int k = 0; k < images; k++)
            expected[k] = Floats((await PostJson("api/read", PixelsBody(fixture.TestImages.Image(k)), "application/json"))["probabilities"]!);

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = requests }) { BaseAddress = fixture.Server.Address, Timeout = TimeSpan.FromMinutes(2) };
        using var start = new ManualResetEventSlim();
        Task<float[]>[] answers = Enumerable.Range(0, requests).Select(r => Task.Run(async () =>
        {
            start.Wait();
            using var content = new ByteArrayContent(PixelsBody(fixture.TestImages.Image(r % images)));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            HttpResponseMessage response = await client.PostAsync(r % 2 == 0 ? "api/read" : "api/read?gates=true", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Floats(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["probabilities"]!);
        })).ToArray();
        start.Set();
        float[][] results = await Task.WhenAll(answers);
        for (int r = 0; r < requests; r++)
            Assert.Equal(expected[r % images], results[r]);
    }

    [Fact]
    public async Task APortInUseIsOneLineAndANonZeroExit()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var error = await Assert.ThrowsAsync<SmnistException>(() => ReadingServer.StartAsync(ShippedModels.Load(null), null, IPAddress.Loopback, port));
        Assert.Contains("already in use", error.Message);

        CliHarness.Outcome outcome = CliHarness.Run("serve", "--port", $"{port}", "--data-dir", CliHarness.DataDir);
        Assert.Equal(Smnist.Cli.Cli.Failure, outcome.Exit);
        Assert.Equal($"error: cannot listen on 127.0.0.1:{port}: the port is already in use (choose another with --port)", outcome.Err.Trim());
    }

    [Theory]
    [InlineData("--host", "example.org")]
    [InlineData("--port", "70000")]
    public void BadServeOptionsAreUsageErrors(string option, string value)
    {
        CliHarness.Outcome outcome = CliHarness.Run("serve", option, value);
        Assert.Equal(Smnist.Cli.Cli.UsageError, outcome.Exit);
        Assert.Single(outcome.Err.Trim().Split('\n'));
    }

    private static string Pixels(string value) => $"{{\"pixels\": [{string.Join(',', Enumerable.Repeat(value, ImageSet.Pixels))}]}}";

    /// <summary>The JSON body <c>{"pixels": [...]}</c> of an image in MNIST's convention.</summary>
    internal static byte[] PixelsBody(ReadOnlySpan<byte> image)
    {
        var pixels = new JsonArray();
        foreach (byte p in image)
            pixels.Add(p / 255.0);
        return Encoding.UTF8.GetBytes(new JsonObject { ["pixels"] = pixels }.ToJsonString());
    }

    private static byte[] ToRgb(ReadOnlySpan<byte> grey)
    {
        var rgb = new byte[grey.Length * 3];
        for (int i = 0; i < grey.Length; i++)
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
        return rgb;
    }

    private async Task<JsonNode> PostJson(string url, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        HttpResponseMessage response = await Client.PostAsync(url, content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task<JsonNode> GetJson(string url, HttpStatusCode status)
    {
        HttpResponseMessage response = await Client.GetAsync(url);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{url}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!;
    }

    private static async Task AssertError(HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument document = JsonDocument.Parse(text);
        string error = document.RootElement.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain('\n', error);
    }

    private static float[] Floats(JsonNode node) => node.AsArray().Select(v => (float)v!).ToArray();

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], tolerance);
    }

    /// <summary>A stream whose length is unknown, so the client sends it chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
