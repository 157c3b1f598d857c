using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;

namespace Smnist.Cli.Serve;

/// <summary>
/// One live pad connection over a WebSocket: a frame in, its answer out, one at a time, each read by the
/// connection's own <see cref="LiveReading"/>. What a connection holds is bounded: a receive buffer of
/// <see cref="ServerLimits.LiveFrameBytes"/>, one answer, and the reader's state of one step. Garbage frames get an
/// error frame; a frame too large to hold, or no frame for <see cref="ServerLimits.LiveIdleTime"/>, closes the connection.
/// </summary>
internal static class LiveSocket
{
    public static async Task RunAsync(WebSocket socket, LiveModel model, ServerLimits limits, TextWriter log, CancellationToken aborted)
    {
        int capacity = limits.LiveFrameBytes;
        // Not pooled: a receive still pending when the connection times out may write into it until the socket is aborted.
        var frame = new byte[capacity];
        var answer = new ArrayBufferWriter<byte>(1024);
        var reading = new LiveReading(model);
        string idle = limits.LiveIdleTime.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        try
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == capacity)
                    {
                        await Send(socket, answer, limits, a => LiveReading.Error(a, $"a frame is at most {capacity} bytes; the connection is closed"));
                        await Close(socket, WebSocketCloseStatus.MessageTooBig, $"frame over {capacity} bytes", limits);
                        return;
                    }
                    try
                    {
                        result = await socket.ReceiveAsync(frame.AsMemory(length, capacity - length), aborted).AsTask().WaitAsync(limits.LiveIdleTime, aborted);
                    }
                    catch (TimeoutException)
                    {
                        await Close(socket, WebSocketCloseStatus.PolicyViolation, $"no frame for {idle} s", limits);
                        return;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close:
                        await Close(socket, WebSocketCloseStatus.NormalClosure, "", limits);
                        return;
                    case WebSocketMessageType.Binary:
                        await Send(socket, answer, limits, a => LiveReading.Error(a, "send text frames of JSON, not binary ones"));
                        break;
                    default:
                        await Send(socket, answer, limits, a => reading.Answer(frame.AsSpan(0, length), a));
                        break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
        {
            // The client went away, broke the protocol, or did not take an answer in time: the socket is done.
        }
        catch (Exception e)
        {
            log.WriteLine($"error: internal error on a live connection: {e.GetType().Name}: {SmnistException.OneLine(e.Message)}");
            socket.Abort();
        }
    }

    private static async Task Send(WebSocket socket, ArrayBufferWriter<byte> answer, ServerLimits limits, Action<ArrayBufferWriter<byte>> write)
    {
        answer.ResetWrittenCount();
        write(answer);
        await socket.SendAsync(answer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).AsTask().WaitAsync(limits.LiveIdleTime);
    }

    private static async Task Close(WebSocket socket, WebSocketCloseStatus status, string reason, ServerLimits limits)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(status, reason, CancellationToken.None).WaitAsync(limits.LiveIdleTime);
    }
}
