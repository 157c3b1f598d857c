using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
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
/// read-only (its gate weights packed once); each read borrows a <see cref="ReadingTrace"/> from a pool, so
/// concurrent requests never share buffers. Nothing a request asks for reaches the file system: the page is
/// embedded in the assembly and the test images are loaded before the server starts. Memory and work are bounded
/// by <see cref="ServerLimits"/>: bodies and answers live in a <see cref="BufferBudget"/>, and at most
/// <see cref="ServerLimits.ReadsAtOnce"/> reads (decode, trace, answer) run at once. Every request must name this
/// server in its Host header (see <see cref="HostAllowed"/>), which defeats DNS rebinding.
/// </summary>
internal sealed class ReadingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ModelChoice _model;
    private readonly ImageSet? _testImages;
    private readonly ServerLimits _limits;
    private readonly TextWriter _log;
    private readonly IPAddress _address;
    private readonly PackedGateWeights _packed;
    private readonly ConcurrentBag<ReadingTrace> _traces = [];
    private readonly SemaphoreSlim _turns;
    private readonly BufferBudget _buffers;
    private readonly Dictionary<string, Route> _routes;
    private readonly LiveModel _live;
    private int _liveConnections;

    private ReadingServer(WebApplication app, ModelChoice model, ImageSet? testImages, ServerLimits limits, TextWriter log, IPAddress address)
    {
        _app = app;
        _model = model;
        _testImages = testImages;
        _limits = limits;
        _log = log;
        _address = address;
        _packed = new PackedGateWeights(model.Loaded.Model.Config);
        _packed.Pack(model.Loaded.Model);
        // The first trace is made now: a model the page cannot show (one trained on other sequences) is refused at start.
        _traces.Add(NewTrace());
        _turns = new SemaphoreSlim(limits.ReadsAtOnce, limits.ReadsAtOnce);
        _buffers = new BufferBudget(limits.BufferBytes);
        _live = new LiveModel(model.Loaded.Sequence.View == SequenceView.Strokes ? model : ShippedModels.Load(ShippedModels.StrokesName));
        _routes = new Dictionary<string, Route>(StringComparer.OrdinalIgnoreCase)
        {
            ["/api/read"] = new(Post: Read),
            ["/api/model"] = new(Get: Describe),
            ["/api/sample"] = new(Get: Sample),
            ["/api/live"] = new(Get: Live),
            ["/healthz"] = new(Get: http => Json(http, StatusCodes.Status200OK, writer => writer.WriteString("status", "ok"))),
        };
        foreach ((string path, PageAsset asset) in PageAsset.All)
            _routes[path] = new(Get: asset.Write);
    }

    /// <summary>Where the server listens, with the port it was given when asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The model the live pad reads with (its file name, or the shipped model's name).</summary>
    public string LiveModelName => Path.GetFileName(_live.Choice.Name);

    /// <summary>Bytes held now by request bodies and answers (a test's window on the budget).</summary>
    internal long BufferedBytes => _buffers.Held;

    /// <summary>
    /// Starts listening on <paramref name="address"/>:<paramref name="port"/> (0 for any free port).
    /// <paramref name="testImages"/> serves /api/sample; null when the test set could not be loaded. Internal
    /// errors are written to <paramref name="log"/> (one line each), never to the client.
    /// </summary>
    public static async Task<ReadingServer> StartAsync(ModelChoice model, ImageSet? testImages, IPAddress address, int port,
        ServerLimits? limits = null, TextWriter? log = null)
    {
        limits ??= ServerLimits.Default;
        // The empty builder reads no appsettings.json or environment: nothing in the current folder changes the server.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "smnist", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.ConnectionBufferBytes / 2;
            kestrel.Limits.MaxRequestBufferSize = limits.ConnectionBufferBytes;
            kestrel.Limits.MaxResponseBufferSize = limits.ConnectionBufferBytes;
            // HTTP/1.1 only: one request at a time per connection, so the connection limit bounds the requests.
            kestrel.Listen(address, port, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
        });
        WebApplication app = builder.Build();
        ReadingServer server;
        try
        {
            server = new ReadingServer(app, model, testImages, limits, log ?? TextWriter.Null, address);
        }
        catch (SmnistException e)
        {
            await app.DisposeAsync();
            throw new SmnistException($"{model.Name}: {e.Message}; serve shows images", e);
        }
        app.UseWebSockets();
        app.Run(server.Handle);
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
                : $"cannot listen on {where}: {SmnistException.OneLine(e.Message)}", e);
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        return server;
    }

    /// <summary>Cancelled when the host begins to stop on its own, as on SIGTERM.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A path's handlers: GET (which also answers HEAD) and POST; any other method gets 405 with Allow.</summary>
    private sealed record Route(Func<HttpContext, Task>? Get = null, Func<HttpContext, Task>? Post = null)
    {
        public string Allow => Get is not null ? "GET, HEAD" : "POST";
    }

    /// <summary>Every request: the Host check, the route and its method, and errors as one line of JSON.</summary>
    private async Task Handle(HttpContext http)
    {
        http.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            string path = http.Request.Path.Value ?? "/";
            if (!HostAllowed(http.Request.Host))
            {
                await Error(http, StatusCodes.Status403Forbidden, $"this server answers to its own address, not to the host '{http.Request.Host.Host}' (see docs/server.md)");
                return;
            }
            if (!_routes.TryGetValue(path, out Route? route))
            {
                await Error(http, StatusCodes.Status404NotFound, $"nothing at {path}");
                return;
            }
            if (path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) || path.Equals("/healthz", StringComparison.OrdinalIgnoreCase))
                http.Response.Headers.CacheControl = "no-store";
            string method = http.Request.Method;
            Func<HttpContext, Task>? handler = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? route.Get : HttpMethods.IsPost(method) ? route.Post : null;
            if (handler is null)
            {
                http.Response.Headers.Allow = route.Allow;
                await Error(http, StatusCodes.Status405MethodNotAllowed, route.Post is not null
                    ? $"POST an image (image/png or image/jpeg) or {{\"pixels\": [{ImageSet.Pixels} numbers]}} to {path}"
                    : $"{path} answers {route.Allow}, not {method}");
                return;
            }
            await handler(http);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away (a cancelled decode, a body cut off); nobody is left to answer.
        }
        catch (BadHttpRequestException e) when (!http.Response.HasStarted)
        {
            // Kestrel's own texts name its settings; the client gets ours.
            await Error(http, e.StatusCode, e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => TooLarge,
                StatusCodes.Status408RequestTimeout => "the request body came too slowly",
                _ => "the request is malformed",
            });
        }
        catch (ServerBusyException e) when (!http.Response.HasStarted)
        {
            await Busy(http, e.Message);
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            _log.WriteLine($"error: internal error answering {http.Request.Method} {http.Request.Path}: {e.GetType().Name}: {SmnistException.OneLine(e.Message)}");
            await Error(http, StatusCodes.Status500InternalServerError, "internal error (the server's output says more)");
        }
    }

    /// <summary>
    /// Whether a request's Host names this server: an IP address (a page can only be at an address's origin if it
    /// came from there), <c>localhost</c>, and, when listening beyond loopback, this machine's name (with or
    /// without <c>.local</c>). Any other name could be a DNS name an attacker points at 127.0.0.1 to read the API
    /// from their page (DNS rebinding). A request without Host (HTTP/1.0) comes from no browser page.
    /// </summary>
    internal bool HostAllowed(HostString host)
    {
        string name = host.Host;
        if (!host.HasValue || name.Length == 0)
            return true;
        if (IPAddress.TryParse(name.Trim('[', ']'), out _) || name.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        if (IPAddress.IsLoopback(_address))
            return false;
        string machine = Environment.MachineName;
        return name.Equals(machine, StringComparison.OrdinalIgnoreCase) || name.Equals($"{machine}.local", StringComparison.OrdinalIgnoreCase);
    }

    private string TooLarge => $"the request body is larger than {_limits.MaxBodyBytes / (1024 * 1024)} MB";

    private async Task Read(HttpContext http)
    {
        if (!TryGates(http, out bool gates))
        {
            await Error(http, StatusCodes.Status400BadRequest, "gates must be true or false");
            return;
        }
        string? mediaType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var parsed) ? parsed.MediaType?.ToLowerInvariant() : null;
        // image/jpg is not registered, but browsers and tools send it for .jpg files.
        if (mediaType == "image/jpg")
            mediaType = "image/jpeg";
        if (mediaType is not ("image/png" or "image/jpeg" or "application/json"))
        {
            await Error(http, StatusCodes.Status415UnsupportedMediaType,
                $"send image/png, image/jpeg or application/json, not '{http.Request.ContentType ?? "no content type"}'");
            return;
        }
        if (http.Request.ContentLength > _limits.MaxBodyBytes)
        {
            await Error(http, StatusCodes.Status413PayloadTooLarge, TooLarge);
            return;
        }
        using PooledBuffer body = await ReadBody(http.Request);
        await InTurn(http, cancel => Answer(mediaType, body.Written, gates, cancel));
    }

    /// <summary>
    /// The work of one <c>POST /api/read</c> once its body has arrived: the preparation predict does, the trace,
    /// and its JSON, in a pooled buffer the caller disposes. Bad input throws <see cref="SmnistException"/>.
    /// </summary>
    internal PooledBuffer Answer(string mediaType, ArraySegment<byte> body, bool gates, CancellationToken cancel = default) =>
        TraceJsonOf(mediaType == "application/json" ? PixelsToMnist(body) : ImageOf(body, cancel), gates, extra: null);

    /// <summary>
    /// Only what has arrived takes memory: each read waits for bytes in Kestrel's connection buffer and copies them
    /// into a pooled buffer that grows with them; nothing is sized from Content-Length. Past the limit Kestrel's
    /// read throws (413).
    /// </summary>
    private async Task<PooledBuffer> ReadBody(HttpRequest request)
    {
        var body = new PooledBuffer(_buffers);
        try
        {
            PipeReader reader = request.BodyReader;
            while (true)
            {
                ReadResult result = await reader.ReadAsync(request.HttpContext.RequestAborted);
                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                    body.Write(segment.Span);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    return body;
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    private static byte[] ImageOf(ArraySegment<byte> body, CancellationToken cancel)
    {
        try
        {
            return ImageFile.ToDigit(body, cancel);
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
        await InTurn(http, _ => TraceJsonOf(_testImages.Image(index).ToArray(), gates, writer =>
        {
            writer.WriteNumber("index", index);
            writer.WriteNumber("label", label);
        }));
    }

    /// <summary>
    /// One read in a turn of its own: <paramref name="answer"/> makes the JSON answer (bad input throws
    /// <see cref="SmnistException"/>: 400). The turn and the trace are given back before the answer is sent, so a
    /// client that reads its answer slowly holds only the answer's bytes. The token given to
    /// <paramref name="answer"/> is cancelled when the client disconnects or after
    /// <see cref="ServerLimits.MaxDecodeTime"/>.
    /// </summary>
    private async Task InTurn(HttpContext http, Func<CancellationToken, PooledBuffer> answer)
    {
        if (!await _turns.WaitAsync(_limits.MaxWait, http.RequestAborted))
        {
            await Busy(http, $"all {_limits.ReadsAtOnce} reads were busy for {_limits.MaxWait.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
            return;
        }
        PooledBuffer? json = null;
        string? problem = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            deadline.CancelAfter(_limits.MaxDecodeTime);
            try
            {
                json = answer(deadline.Token);
            }
            catch (SmnistException e)
            {
                problem = SmnistException.OneLine(e.Message);
            }
            catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
            {
                problem = $"the image took more than {_limits.MaxDecodeTime.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s to decode";
            }
        }
        finally
        {
            _turns.Release();
        }
        if (json is null)
        {
            await Error(http, StatusCodes.Status400BadRequest, problem!);
            return;
        }
        using (json)
            await WriteJson(http, json.Written);
    }

    private Task Describe(HttpContext http)
    {
        ModelConfig config = _model.Loaded.Model.Config;
        SequenceLayout sequence = _model.Loaded.Sequence;
        return Json(http, StatusCodes.Status200OK, writer =>
        {
            // The file's name only: where it lies on this machine is no business of a client's.
            writer.WriteString("name", Path.GetFileName(_model.Name));
            writer.WriteString("sequence", sequence.Name);
            writer.WriteNumber("steps", sequence.Steps);
            writer.WriteNumber("features", sequence.Features);
            writer.WriteNumber("image_width", ImageSet.Width);
            writer.WriteNumber("image_height", ImageSet.Height);
            writer.WriteNumber("input_size", config.InputSize);
            writer.WriteNumber("hidden_size", config.HiddenSize);
            writer.WriteNumber("layers", config.Layers);
            writer.WriteBoolean("refine_gate", config.RefineGate);
            writer.WriteNumber("classes", config.Classes);
            writer.WriteNumber("parameters", _model.Loaded.Model.Layout.Count);
            writer.WriteNumber("test_images", _testImages?.Count ?? 0);
            writer.WriteStartObject("live");
            writer.WriteString("name", Path.GetFileName(_live.Choice.Name));
            writer.WriteNumber("max_steps", _live.MaxSteps);
            writer.WriteNumber("features", _live.Features);
            writer.WriteNumber("hidden_size", _live.Choice.Loaded.Model.Config.HiddenSize);
            writer.WriteEndObject();
            if (sequence.Permutation is int[] permutation)
            {
                writer.WriteStartArray("permutation");
                foreach (int pixel in permutation)
                    writer.WriteNumberValue(pixel);
                writer.WriteEndArray();
            }
        });
    }

    /// <summary>
    /// <c>/api/live</c>: the live pad's WebSocket, read by its own <see cref="LiveSocket"/> while it is open. At most
    /// <see cref="ServerLimits.LiveConnections"/> at once; a page of another site may not open one.
    /// </summary>
    private async Task Live(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Error(http, StatusCodes.Status426UpgradeRequired, "/api/live is a WebSocket: open ws://this server/api/live (docs/server.md)");
            return;
        }
        if (!SameOrigin(http.Request))
        {
            await Error(http, StatusCodes.Status403Forbidden, "a page of another site may not open the live pad's WebSocket");
            return;
        }
        if (Interlocked.Increment(ref _liveConnections) > _limits.LiveConnections)
        {
            Interlocked.Decrement(ref _liveConnections);
            await Busy(http, $"all {_limits.LiveConnections} live connections are open");
            return;
        }
        try
        {
            using WebSocket socket = await http.WebSockets.AcceptWebSocketAsync();
            await LiveSocket.RunAsync(socket, _live, _limits, _log, http.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _liveConnections);
        }
    }

    /// <summary>
    /// Whether a WebSocket request comes from this server's own page, or from no page at all. Browsers keep no
    /// origins apart for WebSockets: any site's page may open one to 127.0.0.1, and only its Origin header tells.
    /// </summary>
    internal static bool SameOrigin(HttpRequest request)
    {
        string? origin = request.Headers.Origin;
        return string.IsNullOrEmpty(origin)
            || (Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    private ReadingTrace NewTrace() => new(_model.Loaded.Model, _model.Loaded.Sequence, _packed);

    /// <summary>Reads the image with a pooled trace; the trace's JSON, after <paramref name="extra"/> properties, in a pooled buffer.</summary>
    private PooledBuffer TraceJsonOf(byte[] image, bool gates, Action<Utf8JsonWriter>? extra)
    {
        var buffer = new PooledBuffer(_buffers);
        if (!_traces.TryTake(out ReadingTrace? trace))
            trace = NewTrace();
        try
        {
            trace.Read(image);
            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartObject();
            extra?.Invoke(writer);
            TraceJson.WriteProperties(writer, trace, gates);
            writer.WriteEndObject();
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        finally
        {
            _traces.Add(trace);
        }
        return buffer;
    }

    private static Task WriteJson(HttpContext http, ReadOnlyMemory<byte> json)
    {
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = json.Length;
        return http.Response.Body.WriteAsync(json, http.RequestAborted).AsTask();
    }

    /// <summary><c>{"pixels": [784 numbers in 0..1]}</c>, row-major, white on black, brought to MNIST's form as predict does.</summary>
    internal static byte[] PixelsToMnist(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new SmnistException($"the body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
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

    private Task Busy(HttpContext http, string why)
    {
        http.Response.Headers.RetryAfter = _limits.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Error(http, StatusCodes.Status503ServiceUnavailable, $"the server is busy ({why}); try again in {_limits.RetryAfterSeconds} s");
    }
}
