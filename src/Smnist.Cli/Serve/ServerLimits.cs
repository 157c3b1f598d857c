namespace Smnist.Cli.Serve;

/// <summary>
/// What bounds <c>smnist serve</c>'s memory and work whatever the traffic (docs/server.md explains each figure and
/// how <see cref="MemoryCeilingBytes"/> adds up). <see cref="Default"/> is what the command uses; tests shrink
/// single limits to reach them quickly.
/// </summary>
internal sealed record ServerLimits
{
    /// <summary>The limits <c>smnist serve</c> runs with.</summary>
    public static readonly ServerLimits Default = new();

    /// <summary>
    /// The server's resident memory stays below this: the runtime and model (about 110 MB), the connections'
    /// buffers (<see cref="MaxConnections"/> × <see cref="ConnectionBufferBytes"/> × 2), the pooled buffers of
    /// bodies and answers (<see cref="BufferBytes"/>, plus what the pool keeps for reuse), and
    /// <see cref="ReadsAtOnce"/> decodes of the largest image (about 270 MB each), with room for the collector.
    /// </summary>
    public const long MemoryCeilingBytes = 1536L << 20;

    /// <summary>Request bodies beyond this get 413.</summary>
    public int MaxBodyBytes { get; init; } = 2 << 20;

    /// <summary>Reads (decode, trace and JSON answer) that run at once; further requests wait for a turn.</summary>
    public int ReadsAtOnce { get; init; } = 2;

    /// <summary>How long a request waits for a turn before it gets 503 with Retry-After.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Bytes held at once by request bodies being received and answers being sent, all requests together. A body
    /// or answer that would go past it gets 503 with Retry-After; bodies are reserved as their bytes arrive, so a
    /// request that only declares a large Content-Length holds nothing.
    /// </summary>
    public long BufferBytes { get; init; } = 128L << 20;

    /// <summary>Open connections; Kestrel accepts no more until some close.</summary>
    public int MaxConnections { get; init; } = 2000;

    /// <summary>Each connection's input and output buffers (Kestrel's request and response buffer sizes).</summary>
    public int ConnectionBufferBytes { get; init; } = 64 << 10;

    /// <summary>Decoding one image stops (400) after this, and at once when its client disconnects.</summary>
    public TimeSpan MaxDecodeTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The Retry-After of a 503, in seconds.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Live pad connections (WebSockets at /api/live) open at once; one more gets 503 with Retry-After.</summary>
    public int LiveConnections { get; init; } = 64;

    /// <summary>The largest frame (one whole message) a live connection takes; a larger one gets an error and the connection is closed.</summary>
    public int LiveFrameBytes { get; init; } = 16 << 10;

    /// <summary>A live connection that sends no frame for this long, or does not take an answer within it, is closed.</summary>
    public TimeSpan LiveIdleTime { get; init; } = TimeSpan.FromMinutes(5);
}
