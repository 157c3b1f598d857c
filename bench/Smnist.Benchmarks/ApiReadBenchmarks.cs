using System.Net;
using System.Net.Http.Headers;
using System.Text;
using BenchmarkDotNet.Attributes;
using SkiaSharp;
using Smnist.Cli;
using Smnist.Cli.Serve;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// One <c>POST /api/read</c> of smnist serve with the shipped rows model. The server-side work (goal: under 2 ms)
/// is everything after the body has arrived: decoding and centring the image as predict does, the trace, and its
/// JSON. The page sends a 280×280 PNG of the pad and asks for the gates; a program may send 784 JSON pixels.
/// The last benchmark is the whole request over a loopback socket as a client sees it (Kestrel and HttpClient
/// included). One core (the trace itself runs on the request's thread).
/// </summary>
[MemoryDiagnoser, MinColumn]
public class ApiReadBenchmarks
{
    private ReadingServer _server = null!;
    private HttpClient _client = null!;
    private byte[] _padPng = null!;
    private byte[] _pixelsJson = null!;
    private ReadingTrace _trace = null!;
    private byte[] _image = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = ReadingServer.StartAsync(ShippedModels.Load(null), testImages: null, IPAddress.Loopback, port: 0).GetAwaiter().GetResult();
        _client = new HttpClient { BaseAddress = _server.Address };
        _padPng = DrawnSeven();
        _pixelsJson = PixelsJson();
        ModelChoice model = ShippedModels.Load(null);
        var packed = new PackedGateWeights(model.Loaded.Model.Config);
        packed.Pack(model.Loaded.Model);
        _trace = new ReadingTrace(model.Loaded.Model, model.Loaded.Sequence, packed);
        _image = ImageFile.ToDigit(_padPng);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.StopAsync().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "the trace alone (one forward pass, 28 readouts)")]
    public int TraceOnly()
    {
        _trace.Read(_image);
        return _trace.DecidedAt;
    }

    [Benchmark(Description = "server side: pad PNG, gates")]
    public int PadPngWithGates()
    {
        using PooledBuffer answer = _server.Answer("image/png", _padPng, gates: true);
        return answer.Written.Count;
    }

    [Benchmark(Description = "server side: pad PNG")]
    public int PadPng()
    {
        using PooledBuffer answer = _server.Answer("image/png", _padPng, gates: false);
        return answer.Written.Count;
    }

    [Benchmark(Description = "server side: JSON pixels")]
    public int Pixels()
    {
        using PooledBuffer answer = _server.Answer("application/json", _pixelsJson, gates: false);
        return answer.Written.Count;
    }

    [Benchmark(Description = "round trip over loopback: pad PNG, gates")]
    public int RoundTrip()
    {
        using var content = new ByteArrayContent(_padPng);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage response = _client.PostAsync("api/read?gates=true", content).GetAwaiter().GetResult();
        return response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync().GetAwaiter().GetResult().Length;
    }

    /// <summary>A 7 as the page's pad sends it: white strokes 20 pixels wide on black, 280×280, PNG.</summary>
    private static byte[] DrawnSeven()
    {
        using var bitmap = new SKBitmap(280, 280);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Black);
            using var paint = new SKPaint { Color = SKColors.White, StrokeWidth = 20, StrokeCap = SKStrokeCap.Round, IsAntialias = true, Style = SKPaintStyle.Stroke };
            canvas.DrawLine(70, 55, 210, 55, paint);
            canvas.DrawLine(210, 55, 115, 235, paint);
        }
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>A 1 as 784 JSON pixels: a vertical bar two pixels wide.</summary>
    private static byte[] PixelsJson()
    {
        var pixels = new string[784];
        for (int p = 0; p < 784; p++)
            pixels[p] = p % 28 is 13 or 14 && p / 28 is >= 4 and < 24 ? "1" : "0";
        return Encoding.UTF8.GetBytes($"{{\"pixels\": [{string.Join(',', pixels)}]}}");
    }
}
