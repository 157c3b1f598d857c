namespace Smnist.Data;

/// <summary>
/// A stream read line by line as UTF-8 bytes, holding one line (and one read block) at a time, so a reader's memory
/// follows its longest line rather than the file. Lines end at '\n'; a '\r' before it and a UTF-8 byte order mark at
/// the start of the stream are dropped.
/// </summary>
internal sealed class ByteLines(Stream stream, string name)
{
    /// <summary>The longest line read: 1 GiB, where the buffer holding it would stop doubling.</summary>
    public const int MaxLineBytes = 1 << 30;

    private const int BlockBytes = 64 * 1024;

    private byte[] _buffer = new byte[BlockBytes];
    private int _start;      // first byte of the next line
    private int _end;        // end of the bytes read so far
    private int _lineStart;
    private int _lineLength;
    private bool _endOfStream;

    /// <summary>The 1-based number of the current line (0 before the first).</summary>
    public int Number { get; private set; }

    /// <summary>Whether the current line ended with a newline; false only for a last line the stream ends inside.</summary>
    public bool EndedWithNewline { get; private set; }

    /// <summary>The current line's bytes, without its line ending; valid until the next <see cref="Next"/>.</summary>
    public ReadOnlySpan<byte> Line => _buffer.AsSpan(_lineStart, _lineLength);

    /// <summary>Moves to the next line; false at the end of the stream.</summary>
    public bool Next()
    {
        int scanned = _start;
        while (true)
        {
            int newline = _buffer.AsSpan(scanned, _end - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                SetLine(_start, scanned + newline - _start, endedWithNewline: true);
                _start = scanned + newline + 1;
                return true;
            }
            if (_endOfStream)
            {
                if (_start == _end)
                    return false;
                SetLine(_start, _end - _start, endedWithNewline: false);
                _start = _end;
                return true;
            }
            scanned = _end - _start;
            Refill();
        }
    }

    /// <summary>Moves the unread bytes to the front (growing the buffer when a line fills it) and reads a block after them.</summary>
    private void Refill()
    {
        int pending = _end - _start;
        if (pending == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineBytes)
                throw new SmnistException($"{name}: line {Number + 1}: longer than {MaxLineBytes} bytes, the limit");
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        _start = 0;
        _end = pending;
        int read = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
            _endOfStream = true;
        _end += read;
    }

    private void SetLine(int start, int length, bool endedWithNewline)
    {
        Number++;
        if (length > 0 && _buffer[start + length - 1] == (byte)'\r')
            length--;
        if (Number == 1 && _buffer.AsSpan(start, length).StartsWith("\uFEFF"u8))
        {
            start += 3;
            length -= 3;
        }
        _lineStart = start;
        _lineLength = length;
        EndedWithNewline = endedWithNewline;
    }
}
