using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Smnist.Cli;
using Smnist.Cli.Serve;

namespace Smnist.Benchmarks;

/// <summary>
/// One update of serve's live pad: a frame of 10 new pen steps, as the page sends during a stroke, read by the
/// connection's streaming reader and answered with each step's ten probabilities. The server-side work (goal: under
/// 1 ms) is parsing the frame, 10 LSTM steps of the shipped mnist-strokes model, and writing the answer; the
/// round trip adds the WebSocket and loopback as a client sees them. Every ninth update also resets the reading
/// (a 16-byte frame), so that the digit stays under the model's 100 steps.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class LiveUpdateBenchmarks
{
    private static readonly byte[] Reset = Encoding.UTF8.GetBytes("""{"reset": true}""");

    private readonly byte[] _tenSteps = Encoding.UTF8.GetBytes(
        """{"steps": [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [-1, 1, 0, 0], [-1, 1, 0, 0], [-1, 0, 0, 0], [-1, 0, 0, 0], [-1, -1, 0, 0], [0, -1, 0, 0]]}""");

    private readonly ArrayBufferWriter<byte> _answer = new(4096);
    private readonly byte[] _received = new byte[1 << 16];
    private LiveReading _reading = null!;
    private ReadingServer _server = null!;
    private ClientWebSocket _socket = null!;
    private int _updates;

    [GlobalSetup]
    public void Setup()
    {
        _reading = new LiveReading(new LiveModel(ShippedModels.Load(ShippedModels.StrokesName)));
        _server = ReadingServer.StartAsync(ShippedModels.Load(null), testImages: null, IPAddress.Loopback, port: 0).GetAwaiter().GetResult();
        _socket = new ClientWebSocket();
        _socket.ConnectAsync(new Uri($"ws://{_server.Address.Authority}/api/live"), CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _socket.Dispose();
        _server.StopAsync().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "server side: 10 new steps")]
    public int ServerSide()
    {
        if (_reading.StepsRead > 80)
        {
            _answer.ResetWrittenCount();
            _reading.Answer(Reset, _answer);
        }
        _answer.ResetWrittenCount();
        _reading.Answer(_tenSteps, _answer);
        return _answer.WrittenCount;
    }

    [Benchmark(Description = "round trip over loopback: 10 new steps")]
    public int RoundTrip()
    {
        if (++_updates % 9 == 0)
            Exchange(Reset);
        return Exchange(_tenSteps);
    }

    private int Exchange(byte[] frame)
    {
        _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).GetAwaiter().GetResult();
        int length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = _socket.ReceiveAsync(_received.AsMemory(length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            length += result.Count;
        }
        while (!result.EndOfMessage);
        return length;
    }
}
