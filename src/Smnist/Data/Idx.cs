using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Smnist.Data;

/// <summary>
/// Reads the IDX files MNIST and Fashion-MNIST ship in (images: magic 0x00000803, count, 28, 28, pixels; labels:
/// magic 0x00000801, count, labels), raw or gzip-compressed (detected by content, not by name). Every defect is a
/// one-line <see cref="SmnistException"/> naming the file. Sizes come from the bytes actually present, never from
/// the header alone, so a lying header cannot make the reader allocate more than the file holds.
/// </summary>
internal static class Idx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>
    /// The most items one file may declare: as many 28×28 images as one array can hold (about 2.7 million; no
    /// real set comes close). A larger count is a corrupt header, refused before any allocation.
    /// </summary>
    public static int MaxCount { get; } = Array.MaxLength / ImageSet.Pixels;

    private const int ImagesHeaderLength = 16;
    private const int LabelsHeaderLength = 8;

    /// <summary>Reads an images file and its labels file, checking that they agree in count.</summary>
    public static ImageSet Read(string imagesPath, string labelsPath)
    {
        byte[] images = ReadImages(imagesPath);
        byte[] labels = ReadLabels(labelsPath);
        int imageCount = images.Length / ImageSet.Pixels;
        if (imageCount != labels.Length)
        {
            throw new SmnistException(
                $"{imagesPath} holds {imageCount} images but {labelsPath} holds {labels.Length} labels; the two files must agree in count");
        }
        return new ImageSet(images, labels);
    }

    /// <summary>The pixels of an IDX images file: (count, 28, 28) row-major bytes.</summary>
    public static byte[] ReadImages(string path) => ReadFile(path, images: true);

    /// <summary>The labels of an IDX labels file, each checked to be a class 0..9.</summary>
    public static byte[] ReadLabels(string path)
    {
        byte[] labels = ReadFile(path, images: false);
        int bad = labels.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)(ImageSet.Classes - 1));
        if (bad >= 0)
            throw new SmnistException($"{path}: label {labels[bad]} at index {bad} is not a class 0..9");
        return labels;
    }

    /// <summary>Lowercase hex MD5 of the file's uncompressed content (a .gz file is hashed after decompression).</summary>
    public static string Md5OfContent(string path)
    {
        using FileStream file = OpenRead(path);
        try
        {
            using Stream content = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Convert.ToHexStringLower(MD5.HashData(content));
        }
        catch (InvalidDataException ex)
        {
            throw CorruptGzip(path, ex);
        }
    }

    internal static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SmnistException($"{path}: file not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SmnistException(Directory.Exists(path) ? $"{path}: is a folder, not a file." : $"{path}: cannot be read ({ex.Message})", ex);
        }
    }

    /// <summary>Whether the stream starts with the gzip signature; the position is left at the start.</summary>
    internal static bool IsGzip(FileStream file)
    {
        Span<byte> signature = stackalloc byte[2];
        int read = file.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && signature[0] == 0x1f && signature[1] == 0x8b;
    }

    private static byte[] ReadFile(string path, bool images)
    {
        using FileStream file = OpenRead(path);
        bool gzip = IsGzip(file);
        try
        {
            using Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            long payloadLength = ReadHeader(content, path, images);
            if (!gzip)
                CheckRawLength(file.Length - file.Position, payloadLength, path, images);
            // A raw file's length was just checked, so its payload can be allocated at once; gzip data grows as read.
            long initialCapacity = gzip ? Math.Min(payloadLength, 1 << 20) : payloadLength;
            return ReadPayload(content, payloadLength, initialCapacity, path, images);
        }
        catch (InvalidDataException ex)
        {
            throw CorruptGzip(path, ex);
        }
        catch (IOException ex)
        {
            throw new SmnistException($"{path}: read failed ({ex.Message})", ex);
        }
    }

    /// <summary>Validates the header and returns the payload length it declares.</summary>
    private static long ReadHeader(Stream content, string path, bool images)
    {
        int headerLength = images ? ImagesHeaderLength : LabelsHeaderLength;
        Span<byte> header = stackalloc byte[ImagesHeaderLength];
        header = header[..headerLength];
        int read = content.ReadAtLeast(header, headerLength, throwOnEndOfStream: false);
        string kind = images ? "images" : "labels";
        // The magic goes first: a short labels file passed as images should be named as such, not as truncated.
        if (read >= sizeof(int))
        {
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            int expectedMagic = images ? ImagesMagic : LabelsMagic;
            if (magic != expectedMagic)
            {
                string found = magic == (images ? LabelsMagic : ImagesMagic) ? $"an IDX {(images ? "labels" : "images")} file" : "not an IDX file";
                throw new SmnistException($"{path}: magic number 0x{magic:x8} ({found}), expected 0x{expectedMagic:x8} for IDX {kind}");
            }
        }
        if (read < headerLength)
            throw new SmnistException($"{path}: truncated, {read} bytes is shorter than the {headerLength}-byte IDX {kind} header");
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0 || count > MaxCount)
            throw new SmnistException($"{path}: header declares {count} {kind}, outside 0..{MaxCount} (as many images as one array can hold)");
        if (!images)
            return count;
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (rows != ImageSet.Height || columns != ImageSet.Width)
            throw new SmnistException($"{path}: images are {rows}x{columns}, expected {ImageSet.Height}x{ImageSet.Width}");
        long payload = (long)count * ImageSet.Pixels;
        MemoryBudget.Require(payload, $"{path}: {count} images");
        return payload;
    }

    /// <summary>
    /// .NET reports every gzip failure as "unsupported compression method"; this names the real one by decoding
    /// the deflate body on its own: if that succeeds, only the trailer's checksum or length can have failed.
    /// </summary>
    private static SmnistException CorruptGzip(string path, InvalidDataException ex)
    {
        string problem;
        try
        {
            using FileStream file = OpenRead(path);
            problem = GzipDefect(file);
        }
        catch (SmnistException)
        {
            problem = "damaged compressed data";
        }
        return new SmnistException($"{path}: corrupt gzip file ({problem})", ex);
    }

    private static string GzipDefect(FileStream file)
    {
        Span<byte> header = stackalloc byte[10];
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            return "truncated header";
        if (header[2] != 8)
            return $"compression method {header[2]}, not deflate (8)";
        byte flags = header[3];
        Span<byte> word = stackalloc byte[2];
        if ((flags & 0x04) != 0) // FEXTRA: a length, then that many bytes
        {
            if (file.ReadAtLeast(word, 2, throwOnEndOfStream: false) < 2)
                return "truncated header";
            file.Seek(BinaryPrimitives.ReadUInt16LittleEndian(word), SeekOrigin.Current);
        }
        for (int bit = 0x08; bit <= 0x10; bit <<= 1) // FNAME, FCOMMENT: zero-terminated strings
        {
            if ((flags & bit) == 0)
                continue;
            int b;
            while ((b = file.ReadByte()) > 0) { }
            if (b < 0)
                return "truncated header";
        }
        if ((flags & 0x02) != 0) // FHCRC
            file.Seek(2, SeekOrigin.Current);
        try
        {
            using var deflate = new DeflateStream(file, CompressionMode.Decompress);
            byte[] buffer = new byte[1 << 16];
            // Bounded like the reader: no more than the largest payload an IDX file may declare.
            long total = 0;
            int read;
            while ((read = deflate.Read(buffer)) > 0 && (total += read) <= (long)MaxCount * ImageSet.Pixels + ImagesHeaderLength) { }
        }
        catch (InvalidDataException)
        {
            return "damaged compressed data";
        }
        return "the CRC-32 or length in its trailer does not match the content";
    }

    private static void CheckRawLength(long actual, long declared, string path, bool images)
    {
        if (actual == declared)
            return;
        string items = images ? "images" : "labels";
        long itemLength = images ? ImageSet.Pixels : 1;
        throw new SmnistException(actual < declared
            ? $"{path}: truncated, header declares {declared / itemLength} {items} ({declared} bytes) but only {actual} bytes follow it"
            : $"{path}: {actual - declared} bytes beyond the {declared / itemLength} {items} its header declares");
    }

    /// <summary>
    /// Reads exactly <paramref name="declared"/> bytes and checks nothing follows. The buffer grows with the data
    /// read rather than being sized by the header, so a small file with a huge count fails before a huge allocation.
    /// </summary>
    private static byte[] ReadPayload(Stream content, long declared, long initialCapacity, string path, bool images)
    {
        byte[] buffer = new byte[initialCapacity];
        long total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total == declared)
                    break;
                // The header check keeps declared sizes within Array.MaxLength, so the cast cannot overflow.
                Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
            }
            int read = content.Read(buffer, (int)total, buffer.Length - (int)total);
            if (read == 0)
                CheckRawLength(total, declared, path, images);
            total += read;
        }
        Span<byte> probe = stackalloc byte[1];
        if (content.Read(probe) != 0)
        {
            throw new SmnistException(
                $"{path}: data continues beyond the {declared / (images ? ImageSet.Pixels : 1)} {(images ? "images" : "labels")} its header declares");
        }
        return buffer;
    }
}
