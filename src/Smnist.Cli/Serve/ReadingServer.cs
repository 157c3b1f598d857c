using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Smnist.Data;
using Smnist.Imaging;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Cli.Serve;

/// <summary>
/// <c>smnist serve</c>'s web server (Kestrel): the draw-a-digit page and its JSON API. The model is shared
/// read-only (its gate weights packed once); each request borrows a <see cref="ReadingTrace"/> from a pool,
/// so concurrent requests never share buffers. Nothing a request asks for reaches the file system: the page is
/// embedded in the assembly and the test images are loaded before the server starts.
/// </summary>
internal sealed class ReadingServer : IAsyncDisposable
{
    /// <summary>Request bodies beyond this get 413.</summary>
    public const int MaxBodyBytes = 2 * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly ModelChoice _model;
    private readonly ImageSet? _testImages;
    private readonly PackedGateWeights _packed;
    private readonly ConcurrentBag<ReadingTrace> _traces = [];

    private ReadingServer(WebApplication app, ModelChoice model, ImageSet? testImages)
    {
        _app = app;
        _model = model;
        _testImages = testImages;
        _packed = new PackedGateWeights(model.Loaded.Model.Config);
        _packed.Pack(model.Loaded.Model);
    }

    /// <summary>Where the server listens, with the port it was given when asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>
    /// Starts listening on <paramref name="address"/>:<paramref name="port"/> (0 for any free port).
    /// <paramref name="testImages"/> serves /api/sample; null when the test set could not be loaded.
    /// </summary>
    public static async Task<ReadingServer> StartAsync(ModelChoice model, ImageSet? testImages, IPAddress address, int port)
    {
        // The empty builder reads no appsettings.json or environment: nothing in the current folder changes the server.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "smnist", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Listen(address, port);
        });
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();
        var server = new ReadingServer(app, model, testImages);
        server.Map(app);
        try
        {
            await app.StartAsync();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync();
            string where = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
            throw new SmnistException(e is AddressInUseException || e.InnerException is AddressInUseException
                ? $"cannot listen on {where}: the port is already in use (choose another with --port)"
                : $"cannot listen on {where}: {Cli.OneLine(e.Message)}", e);
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        return server;
    }

    /// <summary>Cancelled when the host begins to stop on its own, as on SIGTERM.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            http.Response.Headers.XContentTypeOptions = "nosniff";
            try
            {
                await next(http);
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                await Error(http, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge : Cli.OneLine(e.Message));
            }
            catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
            {
                await Error(http, StatusCodes.Status500InternalServerError, $"internal error, {e.GetType().Name}: {Cli.OneLine(e.Message)}");
            }
        });
        foreach ((string path, PageAsset asset) in PageAsset.All)
            app.MapGet(path, http => asset.Write(http));
        app.MapPost("/api/read", Read);
        app.MapMethods("/api/read", ["GET", "HEAD", "PUT", "DELETE", "PATCH"], http =>
        {
            http.Response.Headers.Allow = "POST";
            return Error(http, StatusCodes.Status405MethodNotAllowed, "POST an image (image/png or image/jpeg) or {\"pixels\": [784 numbers]} to /api/read");
        });
        app.MapGet("/api/model", Describe);
        app.MapGet("/api/sample", Sample);
        app.MapGet("/healthz", http => Json(http, StatusCodes.Status200OK, writer => writer.WriteString("status", "ok")));
        app.MapFallback(http => Error(http, StatusCodes.Status404NotFound, $"nothing at {http.Request.Path}"));
    }

    private static readonly string TooLarge = $"the request body is larger than {MaxBodyBytes / (1024 * 1024)} MB";

    private async Task Read(HttpContext http)
    {
        if (!TryGates(http, out bool gates))
        {
            await Error(http, StatusCodes.Status400BadRequest, "gates must be true or false");
            return;
        }
        string? mediaType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var parsed) ? parsed.MediaType?.ToLowerInvariant() : null;
        if (mediaType is not ("image/png" or "image/jpeg" or "application/json"))
        {
            await Error(http, StatusCodes.Status415UnsupportedMediaType,
                $"send image/png, image/jpeg or application/json, not '{http.Request.ContentType ?? "no content type"}'");
            return;
        }
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            await Error(http, StatusCodes.Status413PayloadTooLarge, TooLarge);
            return;
        }
        byte[] body = await ReadBody(http.Request);

        ReadOnlyMemory<byte> answer;
        try
        {
            answer = Answer(mediaType, body, gates);
        }
        catch (SmnistException e)
        {
            await Error(http, StatusCodes.Status400BadRequest, Cli.OneLine(e.Message));
            return;
        }
        await WriteJson(http, answer);
    }

    /// <summary>
    /// The work of one <c>POST /api/read</c> once its body has arrived: the preparation predict does, the trace,
    /// and its JSON. Bad input throws <see cref="SmnistException"/>.
    /// </summary>
    internal ReadOnlyMemory<byte> Answer(string mediaType, byte[] body, bool gates)
    {
        byte[] image = mediaType == "application/json" ? PixelsToMnist(body) : ImageOf(body);
        return TraceJsonOf(image, gates, extra: null);
    }

    private static byte[] ImageOf(byte[] body)
    {
        try
        {
            return ImageFile.ToDigit(body);
        }
        catch (SmnistException e)
        {
            throw new SmnistException($"the image: {e.Message}", e);
        }
    }

    private async Task Sample(HttpContext http)
    {
        if (_testImages is null)
        {
            await Error(http, StatusCodes.Status503ServiceUnavailable, "the test images could not be loaded when the server started");
            return;
        }
        if (!int.TryParse(http.Request.Query["index"], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || !TryGates(http, out bool gates))
        {
            await Error(http, StatusCodes.Status400BadRequest, "give index=K, a test image number, and optionally gates=true");
            return;
        }
        if (index >= _testImages.Count)
        {
            await Error(http, StatusCodes.Status404NotFound, $"there is no test image {index} (0 to {_testImages.Count - 1})");
            return;
        }
        int label = _testImages.Labels[index];
        await WriteJson(http, TraceJsonOf(_testImages.Image(index).ToArray(), gates, writer =>
        {
            writer.WriteNumber("index", index);
            writer.WriteNumber("label", label);
        }));
    }

    private Task Describe(HttpContext http)
    {
        ModelConfig config = _model.Loaded.Model.Config;
        SequenceLayout sequence = _model.Loaded.Sequence;
        return Json(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("name", _model.Name);
            writer.WriteString("sequence", sequence.Name);
            writer.WriteNumber("steps", sequence.Steps);
            writer.WriteNumber("features", sequence.Features);
            writer.WriteNumber("input_size", config.InputSize);
            writer.WriteNumber("hidden_size", config.HiddenSize);
            writer.WriteNumber("layers", config.Layers);
            writer.WriteNumber("classes", config.Classes);
            writer.WriteNumber("parameters", _model.Loaded.Model.Layout.Count);
            writer.WriteNumber("test_images", _testImages?.Count ?? 0);
            if (sequence.Permutation is int[] permutation)
            {
                writer.WriteStartArray("permutation");
                foreach (int pixel in permutation)
                    writer.WriteNumberValue(pixel);
                writer.WriteEndArray();
            }
        });
    }

    /// <summary>Reads the image with a pooled trace; the trace's JSON, after <paramref name="extra"/> properties.</summary>
    private ReadOnlyMemory<byte> TraceJsonOf(byte[] image, bool gates, Action<Utf8JsonWriter>? extra)
    {
        var buffer = new ArrayBufferWriter<byte>(gates ? 1 << 18 : 1 << 14);
        if (!_traces.TryTake(out ReadingTrace? trace))
            trace = new ReadingTrace(_model.Loaded.Model, _model.Loaded.Sequence, _packed);
        try
        {
            trace.Read(image);
            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartObject();
            extra?.Invoke(writer);
            TraceJson.WriteProperties(writer, trace, gates);
            writer.WriteEndObject();
        }
        finally
        {
            _traces.Add(trace);
        }
        return buffer.WrittenMemory;
    }

    private static Task WriteJson(HttpContext http, ReadOnlyMemory<byte> json)
    {
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        return http.Response.Body.WriteAsync(json).AsTask();
    }

    /// <summary>Reads the whole body; Kestrel's limit turns a longer one into a 413 (see the middleware).</summary>
    private static async Task<byte[]> ReadBody(HttpRequest request)
    {
        using var memory = new MemoryStream(request.ContentLength is long length ? (int)length : 1 << 16);
        await request.Body.CopyToAsync(memory);
        return memory.ToArray();
    }

    /// <summary><c>{"pixels": [784 numbers in 0..1]}</c>, row-major, white on black, brought to MNIST's form as predict does.</summary>
    internal static byte[] PixelsToMnist(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new SmnistException($"the body is not valid JSON ({Cli.OneLine(e.Message)})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("pixels", out JsonElement pixels) || pixels.ValueKind != JsonValueKind.Array)
                throw new SmnistException("the JSON must be an object with a \"pixels\" array");
            int count = pixels.GetArrayLength();
            if (count != ImageSet.Pixels)
                throw new SmnistException($"\"pixels\" has {count} values; it needs {ImageSet.Pixels} (28×28, row-major)");
            var grey = new byte[ImageSet.Pixels];
            int k = 0;
            foreach (JsonElement pixel in pixels.EnumerateArray())
            {
                if (pixel.ValueKind != JsonValueKind.Number || !pixel.TryGetDouble(out double value) || !double.IsFinite(value))
                    throw new SmnistException($"pixel {k} is not a number");
                if (value is < 0 or > 1)
                    throw new SmnistException($"pixel {k} is {value.ToString(CultureInfo.InvariantCulture)}; pixels run from 0 to 1");
                grey[k++] = (byte)Math.Round(value * 255);
            }
            return DigitImage.ToMnist(grey, ImageSet.Width, ImageSet.Height, channels: 1);
        }
    }

    private static bool TryGates(HttpContext http, out bool gates)
    {
        string? value = http.Request.Query["gates"];
        gates = false;
        return value is null || bool.TryParse(value, out gates);
    }

    private static Task Json(HttpContext http, int status, Action<Utf8JsonWriter> properties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            properties(writer);
            writer.WriteEndObject();
        }
        http.Response.StatusCode = status;
        return WriteJson(http, buffer.WrittenMemory);
    }

    private static Task Error(HttpContext http, int status, string message) =>
        Json(http, status, writer => writer.WriteString("error", message));
}
