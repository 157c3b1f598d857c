using System.Buffers;
using System.Numerics;

namespace Smnist.Cli.Serve;

/// <summary>
/// The server's bytes in flight, request bodies and answers together: arrays from a private pool, counted
/// against a fixed total. The pool keeps at most <see cref="KeptPerSize"/> idle arrays of each size, so after a
/// burst the rest is garbage the collector gives back; the total is what a burst can hold at once.
/// </summary>
internal sealed class BufferBudget(long capacity)
{
    /// <summary>Idle arrays kept per power-of-two size, up to <see cref="LargestPooled"/> bytes.</summary>
    public const int KeptPerSize = 4;

    private const int LargestPooled = 4 << 20;

    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(LargestPooled, KeptPerSize);
    private long _held;

    /// <summary>Bytes in arrays handed out and not yet returned.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>An array of at least <paramref name="length"/> bytes, or null when it would take the total past its capacity.</summary>
    public byte[]? TryRent(int length)
    {
        // The pool hands out power-of-two sizes; the budget counts what is really held.
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 16));
        if (Interlocked.Add(ref _held, size) > capacity)
        {
            Interlocked.Add(ref _held, -size);
            return null;
        }
        return _pool.Rent(size);
    }

    public void Return(byte[] array)
    {
        Interlocked.Add(ref _held, -array.Length);
        _pool.Return(array);
    }
}

/// <summary>The server is at one of its limits: the request gets 503 with Retry-After.</summary>
internal sealed class ServerBusyException(string message) : Exception(message);

/// <summary>
/// A growing buffer of one request's body or answer, in one array of a <see cref="BufferBudget"/> (doubling as it
/// fills, from 16 KB). Throws <see cref="ServerBusyException"/> when the budget cannot give it room.
/// </summary>
internal sealed class PooledBuffer(BufferBudget budget) : IBufferWriter<byte>, IDisposable
{
    private const int FirstSize = 16 << 10;

    private byte[] _array = [];
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ArraySegment<byte> Written => new(_array, 0, _written);

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return _array.AsSpan(_written);
    }

    /// <summary>Room for <paramref name="count"/> more bytes, in an array no larger than twice what they need.</summary>
    private void Reserve(int count)
    {
        if (_array.Length - _written >= count)
            return;
        int wanted = Math.Max(FirstSize, Math.Max(2 * _array.Length, _written + count));
        byte[] larger = budget.TryRent(wanted) ?? throw new ServerBusyException("the server is holding as many request and answer bytes as it allows");
        _array.AsSpan(0, _written).CopyTo(larger);
        if (_array.Length > 0)
            budget.Return(_array);
        _array = larger;
    }

    public void Dispose()
    {
        if (_array.Length > 0)
            budget.Return(_array);
        _array = [];
        _written = 0;
    }
}
