using System.Buffers.Binary;
using System.Globalization;
using Smnist.Imaging;
using StbImageSharp;

namespace Smnist.Cli;

/// <summary>
/// Decodes a PNG or JPEG file into MNIST's 28×28 convention with <see cref="DigitImage"/>. Before decoding, the
/// header's dimensions are checked against <see cref="MaxPixels"/>, so a small file cannot unpack into gigabytes;
/// a file cut short is named as such rather than decoded into a wrong digit; a JPEG's EXIF orientation is
/// applied, as a photo viewer does.
/// </summary>
internal static class ImageFile
{
    /// <summary>The largest image decoded: 4096 × 4096 pixels (16.8 megapixels; a phone's 12-megapixel photo fits), about 350 MB while it is processed.</summary>
    public const long MaxPixels = 4096 * 4096;

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

    /// <summary>The 784 MNIST-convention bytes of the image encoded in <paramref name="bytes"/>.</summary>
    public static byte[] ToDigit(byte[] bytes)
    {
        // Our own reading of the structure comes first: it finds the size, a file cut short, and the orientation,
        // and only a PNG or JPEG that passes it reaches the decoder (whose own header reader can loop forever).
        Header header = IsPng(bytes) ? ReadPngStructure(bytes)
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
            decoded = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlueAlpha);
        }
        catch (Exception e)
        {
            // StbImageSharp reports any undecodable input with a plain Exception, sometimes without a message.
            string reason = Cli.OneLine(e.Message) is { Length: > 0 } message ? message : $"the decoder failed with {e.GetType().Name}";
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
    /// which a file cut short never reaches.
    /// </summary>
    internal static Header ReadPngStructure(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8 + 12 + 13 || BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) != 13 || !bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new SmnistException("not a readable PNG image (it does not start with its IHDR chunk)");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]);
        if (width > int.MaxValue || height > int.MaxValue)
            throw new SmnistException($"not a readable PNG image (its header gives {width}×{height} pixels)");
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
                return new Header((int)width, (int)height, Orientation: 1);
            position += 12 + (int)length;
        }
    }

    /// <summary>
    /// Walks the segments to the end-of-image marker, through every scan's entropy-coded data: the size comes from
    /// the frame header (which must precede the first scan), the orientation from EXIF (1 when absent or
    /// unreadable). A file cut short has no end-of-image marker.
    /// </summary>
    internal static Header ReadJpegStructure(ReadOnlySpan<byte> bytes)
    {
        int orientation = 1, width = 0, height = 0, position = 2;
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
}
