using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Smnist.Imaging;
using StbImageSharp;

namespace Smnist.Cli;

/// <summary>
/// Decodes a PNG or JPEG file into MNIST's 28×28 convention with <see cref="DigitImage"/>. The decoder's cost is
/// bounded before it runs, so a small file cannot unpack into gigabytes nor keep a core busy for minutes: the
/// header's dimensions are checked against <see cref="MaxPixels"/>; a PNG's image data is inflated (and thrown
/// away) up to the size its header implies, and refused past it; a JPEG may have at most <see cref="MaxJpegScans"/>
/// scans. A file cut short is named as such rather than decoded into a wrong digit; a JPEG's EXIF orientation is
/// applied, as a photo viewer does.
/// </summary>
internal static class ImageFile
{
    /// <summary>The largest image decoded: 4096 × 4096 pixels (16.8 megapixels; a phone's 12-megapixel photo fits), about 280 MB while it is processed (measured on a 4096×4096 JPEG; docs/server.md counts it twice in the server's memory ceiling).</summary>
    public const long MaxPixels = 4096 * 4096;

    /// <summary>
    /// The most scans a JPEG may have. Each progressive scan walks every block of the image, so thousands of
    /// nearly empty scans cost minutes of CPU from a small file; real encoders write about 10. libjpeg-turbo's
    /// answer to this (TJPARAM_SCANLIMIT, off by default) is a limit the application sets; its own fuzz targets
    /// use 500, and LibreOffice's JPEG filter 100.
    /// </summary>
    public const int MaxJpegScans = 100;

    /// <summary>Reads and converts the image file at <paramref name="path"/>; every defect is a one-line <see cref="SmnistException"/> naming it.</summary>
    public static byte[] ReadDigit(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file"
                : Directory.Exists(path) ? "it is a folder, not a file"
                : e.Message;
            throw new SmnistException($"{path}: cannot be read ({reason})", e);
        }
        try
        {
            return ToDigit(bytes);
        }
        catch (SmnistException e)
        {
            throw new SmnistException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The 784 MNIST-convention bytes of the image encoded in <paramref name="bytes"/>. Cancelling
    /// <paramref name="cancel"/> stops the decoder at its next read of the input (an OperationCanceledException).
    /// </summary>
    public static byte[] ToDigit(ArraySegment<byte> bytes, CancellationToken cancel = default)
    {
        // Our own reading of the structure comes first: it finds the size, a file cut short, the orientation, and
        // bounds the decoder's work; only a PNG or JPEG that passes it reaches the decoder (whose own header reader
        // can loop forever).
        Header header = IsPng(bytes) ? ReadPngStructure(bytes, cancel)
            : IsJpeg(bytes) ? ReadJpegStructure(bytes)
            : throw new SmnistException("not a readable PNG or JPEG image (neither signature)");
        long pixels = (long)header.Width * header.Height;
        if (header.Width < 1 || header.Height < 1)
            throw new SmnistException($"not a readable PNG or JPEG image (its header gives {header.Width}×{header.Height} pixels)");
        if (pixels > MaxPixels)
        {
            throw new SmnistException(string.Create(CultureInfo.InvariantCulture,
                $"image is {header.Width}×{header.Height} pixels ({pixels / 1e6:F1} megapixels); at most {MaxPixels / 1e6:F1} megapixels (4096×4096) are read, scale it down first"));
        }

        ImageResult decoded;
        try
        {
            using var input = new CancellableInput(bytes, cancel);
            decoded = ImageResult.FromStream(input, ColorComponents.RedGreenBlueAlpha);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // StbImageSharp reports an undecodable input with InvalidOperationException and its own short reason
            // ("bad huffman code"); anything else is a fault of the decoder, whose .NET text means nothing to a user.
            string reason = e is InvalidOperationException && SmnistException.OneLine(e.Message) is { Length: > 0 } message ? message : "the decoder failed";
            throw new SmnistException($"not a readable PNG or JPEG image ({reason})", e);
        }
        if (decoded.Width != header.Width || decoded.Height != header.Height)
            throw new SmnistException($"not a readable PNG or JPEG image (its header gives {header.Width}×{header.Height} pixels, the decoder {decoded.Width}×{decoded.Height})");
        (byte[] upright, int width, int height) = Orient(decoded.Data, decoded.Width, decoded.Height, header.Orientation);
        return DigitImage.ToMnist(upright, width, height, channels: 4);
    }

    /// <summary>What the structure walk learns before decoding: the stored size and the EXIF orientation (1 to 8).</summary>
    internal readonly record struct Header(int Width, int Height, int Orientation);

    private static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

    private static bool IsJpeg(ReadOnlySpan<byte> bytes) => bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]);

    /// <summary>
    /// The size from IHDR, which must come first; then the chunks (length, type, data, CRC) are walked to IEND,
    /// which a file cut short never reaches. The image data (all IDAT chunks, one zlib stream) of an image within
    /// <see cref="MaxPixels"/> is then inflated and refused if it unpacks to more than its header implies.
    /// </summary>
    internal static Header ReadPngStructure(ArraySegment<byte> file, CancellationToken cancel = default)
    {
        ReadOnlySpan<byte> bytes = file;
        if (bytes.Length < 8 + 12 + 13 || BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) != 13 || !bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new SmnistException("not a readable PNG image (it does not start with its IHDR chunk)");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]);
        if (width > int.MaxValue || height > int.MaxValue)
            throw new SmnistException($"not a readable PNG image (its header gives {width}×{height} pixels)");
        var imageData = new List<ArraySegment<byte>>();
        int position = 8;
        while (true)
        {
            if (bytes.Length - position < 12)
                throw new SmnistException("truncated PNG: the file ends before its IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes[position..]);
            string type = string.Create(4, bytes.Slice(position + 4, 4).ToArray(), (chars, raw) =>
            {
                for (int k = 0; k < 4; k++)
                    chars[k] = raw[k] is >= 0x20 and < 0x7F ? (char)raw[k] : '?';
            });
            if (length > (uint)(bytes.Length - position - 12))
                throw new SmnistException($"truncated PNG: chunk '{type}' of {length} bytes runs past the end of the file");
            if (type == "IEND")
                break;
            if (type == "IDAT")
                imageData.Add(file.Slice(position + 8, (int)length));
            position += 12 + (int)length;
        }
        if (width >= 1 && height >= 1 && (long)width * height <= MaxPixels)
            CheckPngImageData(imageData, PngImageDataBytes(bytes[24], bytes[25], bytes[28], width, height), cancel);
        return new Header((int)width, (int)height, Orientation: 1);
    }

    /// <summary>
    /// The bytes a PNG's image data inflates to, from IHDR's bit depth, colour type and interlace method: per
    /// row a filter byte and the row's pixels packed to whole bytes; an interlaced (Adam7) image is seven such
    /// reduced images.
    /// </summary>
    internal static long PngImageDataBytes(byte bitDepth, byte colourType, byte interlace, long width, long height)
    {
        int samples = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthAllowed = colourType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            _ => bitDepth is 8 or 16,
        };
        if (samples == 0 || !depthAllowed || interlace > 1)
            throw new SmnistException($"not a readable PNG image (colour type {colourType}, bit depth {bitDepth}, interlace method {interlace})");
        long bitsPerPixel = samples * bitDepth;
        long Reduced(long columns, long rows) => columns == 0 || rows == 0 ? 0 : rows * (1 + (columns * bitsPerPixel + 7) / 8);
        if (interlace == 0)
            return Reduced(width, height);
        // Adam7: pass p takes the pixels at x = x0 + k·dx, y = y0 + k·dy.
        ReadOnlySpan<(int X0, int Y0, int Dx, int Dy)> passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        long total = 0;
        foreach ((int x0, int y0, int dx, int dy) in passes)
            total += Reduced((width - x0 + dx - 1) / dx, (height - y0 + dy - 1) / dy);
        return total;
    }

    /// <summary>
    /// Inflates the image data into a small scratch buffer, counting: it stops, and refuses the file, as soon as
    /// the data passes <paramref name="expected"/> bytes, so a PNG bomb costs the time of <paramref name="expected"/>
    /// bytes and no memory; a stream that is not zlib is refused too.
    /// </summary>
    private static void CheckPngImageData(List<ArraySegment<byte>> imageData, long expected, CancellationToken cancel)
    {
        using var compressed = new ChunkStream(imageData);
        using var inflate = new ZLibStream(compressed, CompressionMode.Decompress);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long inflated = 0;
            int read;
            while ((read = inflate.Read(scratch)) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                inflated += read;
                if (inflated > expected)
                    throw new SmnistException($"not a readable PNG image (its image data unpacks to more than the {expected} bytes its header implies)");
            }
        }
        catch (InvalidDataException e)
        {
            throw new SmnistException("not a readable PNG image (its image data is not a valid zlib stream)", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Walks the segments to the end-of-image marker, through every scan's entropy-coded data: the size comes from
    /// the frame header (which must precede the first scan), the orientation from EXIF (1 when absent or
    /// unreadable). A file cut short has no end-of-image marker.
    /// </summary>
    internal static Header ReadJpegStructure(ReadOnlySpan<byte> bytes)
    {
        int orientation = 1, width = 0, height = 0, position = 2, scans = 0;
        bool sawFrame = false;
        while (true)
        {
            // A marker: 0xFF (any number of them, as fill), then its code.
            while (position < bytes.Length && bytes[position] != 0xFF)
                position++;
            while (position < bytes.Length && bytes[position] == 0xFF)
                position++;
            if (position >= bytes.Length)
                throw new SmnistException("truncated JPEG: the file ends before its end-of-image marker");
            byte marker = bytes[position++];
            if (marker == 0xD9)
            {
                return sawFrame
                    ? new Header(width, height, orientation)
                    : throw new SmnistException("not a readable JPEG image (no frame header)");
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
                continue;
            if (bytes.Length - position < 2)
                throw new SmnistException("truncated JPEG: the file ends inside a segment header");
            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[position..]);
            if (length < 2 || length > bytes.Length - position)
                throw new SmnistException($"truncated JPEG: a segment of {length} bytes runs past the end of the file");
            ReadOnlySpan<byte> segment = bytes.Slice(position + 2, length - 2);
            position += length;
            if (marker == 0xE1 && orientation == 1 && segment.StartsWith("Exif\0\0"u8))
                orientation = ExifOrientation(segment[6..]);
            // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC). Precision, height, width, components.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC && !sawFrame)
            {
                if (segment.Length < 6)
                    throw new SmnistException("not a readable JPEG image (its frame header is too short)");
                height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                sawFrame = true;
            }
            if (marker == 0xDA)
            {
                if (!sawFrame)
                    throw new SmnistException("not a readable JPEG image (image data before its frame header)");
                if (++scans > MaxJpegScans)
                    throw new SmnistException($"not a readable JPEG image (more than {MaxJpegScans} scans; each scan revisits the whole image)");
                // Entropy-coded data: 0xFF appears in it only as 0xFF00 (a stuffed byte) or a restart marker.
                while (position + 1 < bytes.Length
                       && !(bytes[position] == 0xFF && bytes[position + 1] is not 0x00 and not 0xFF and not (>= 0xD0 and <= 0xD7)))
                {
                    position++;
                }
                if (position + 1 >= bytes.Length)
                    throw new SmnistException("truncated JPEG: the file ends inside the image data");
            }
        }
    }

    /// <summary>Tag 0x0112 of the first image file directory of EXIF's TIFF structure; 1 if absent or malformed.</summary>
    internal static int ExifOrientation(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
            return 1;
        bool little = tiff[0] == 'I' && tiff[1] == 'I';
        if (!little && !(tiff[0] == 'M' && tiff[1] == 'M'))
            return 1;
        ushort Read16(ReadOnlySpan<byte> at) => little ? BinaryPrimitives.ReadUInt16LittleEndian(at) : BinaryPrimitives.ReadUInt16BigEndian(at);
        uint directory = little ? BinaryPrimitives.ReadUInt32LittleEndian(tiff[4..]) : BinaryPrimitives.ReadUInt32BigEndian(tiff[4..]);
        if (directory > (uint)(tiff.Length - 2))
            return 1;
        int entries = Read16(tiff[(int)directory..]);
        for (int k = 0; k < entries; k++)
        {
            long entry = directory + 2 + 12L * k;
            if (entry + 12 > tiff.Length)
                return 1;
            ReadOnlySpan<byte> field = tiff.Slice((int)entry, 12);
            if (Read16(field) == 0x0112 && Read16(field[2..]) == 3)  // orientation, type SHORT
                return Read16(field[8..]) is var value and >= 1 and <= 8 ? value : 1;
        }
        return 1;
    }

    /// <summary>
    /// The pixels as they are meant to be seen: EXIF orientation 2–8 mirrors and/or rotates the stored image
    /// (6: turn 90° clockwise, 8: 90° anticlockwise, 3: 180°; 2, 4, 5, 7 their mirrored forms).
    /// </summary>
    internal static (byte[] Pixels, int Width, int Height) Orient(byte[] pixels, int width, int height, int orientation)
    {
        if (orientation == 1)
            return (pixels, width, height);
        bool swap = orientation >= 5;
        int outWidth = swap ? height : width, outHeight = swap ? width : height;
        var result = new byte[pixels.Length];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                (int sx, int sy) = orientation switch
                {
                    2 => (width - 1 - x, y),
                    3 => (width - 1 - x, height - 1 - y),
                    4 => (x, height - 1 - y),
                    5 => (y, x),
                    6 => (y, height - 1 - x),
                    7 => (width - 1 - y, height - 1 - x),
                    _ => (width - 1 - y, x),
                };
                pixels.AsSpan((sy * width + sx) * 4, 4).CopyTo(result.AsSpan((y * outWidth + x) * 4));
            }
        }
        return (result, outWidth, outHeight);
    }

    /// <summary>The file as the decoder reads it: a read-only stream over the bytes that throws once cancelled.</summary>
    private sealed class CancellableInput(ArraySegment<byte> bytes, CancellationToken cancel)
        : MemoryStream(bytes.Array ?? [], bytes.Offset, bytes.Count, writable: false)
    {
        public override int ReadByte()
        {
            cancel.ThrowIfCancellationRequested();
            return base.ReadByte();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            cancel.ThrowIfCancellationRequested();
            return base.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            cancel.ThrowIfCancellationRequested();
            return base.Read(buffer);
        }
    }

    /// <summary>Segments of one byte array read one after another, as zlib sees a PNG's IDAT chunks.</summary>
    private sealed class ChunkStream(List<ArraySegment<byte>> chunks) : Stream
    {
        private int _chunk, _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_chunk < chunks.Count && _offset == chunks[_chunk].Count)
            {
                _chunk++;
                _offset = 0;
            }
            if (_chunk == chunks.Count)
                return 0;
            int count = Math.Min(buffer.Length, chunks[_chunk].Count - _offset);
            chunks[_chunk].AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
