using System.Buffers.Binary;
using System.IO.Compression;
using Smnist.Cli;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Fuzz;

/// <summary>
/// The parsers that read user files, each fed one input. The invariant: an input ends in success or in the
/// parser's own <see cref="SmnistException"/>; any other exception escapes, and the fuzzer records it as a crash.
/// Shared by the AFL harness (Program.cs) and the replay and mutation tests in Smnist.Tests.
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["safetensors"] = SafeTensorsFiles,
        ["idx"] = IdxFile,
        ["idx-gzip"] = IdxGzipContent,
        ["image"] = ImageFileBytes,
        ["png-data"] = PngImageData,
    };

    /// <summary>The safetensors reader, then the same bytes as a model file and as a run's checkpoint.</summary>
    public static void SafeTensorsFiles(byte[] input)
    {
        string directory = Scratch();
        string path = Path.Combine(directory, RunCheckpoint.FileName);
        File.WriteAllBytes(path, input);
        Expected(() => SafeTensors.Read(path));
        Expected(() => ModelCheckpoint.Load(path));
        // The run checkpoint with the trainer's state in its metadata, as --resume reads it.
        Expected(() => ResumableRun.Read(directory));
    }

    /// <summary>An IDX file as given: raw, or gzip when it starts with gzip's signature; read as images and as labels.</summary>
    public static void IdxFile(byte[] input)
    {
        string path = Path.Combine(Scratch(), "data-idx");
        File.WriteAllBytes(path, input);
        Expected(() => Idx.ReadImages(path));
        Expected(() => Idx.ReadLabels(path));
    }

    /// <summary>The input compressed with gzip, so that mutations reach the IDX content behind a valid gzip stream.</summary>
    public static void IdxGzipContent(byte[] input)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(input);
        IdxFile(compressed.ToArray());
    }

    /// <summary>PNG, JPEG (or anything else) into MNIST's 28×28 convention, as predict reads a file.</summary>
    public static void ImageFileBytes(byte[] input) => Expected(() => ImageFile.ToDigit(input));

    /// <summary>(colour type, bit depth): every pair PNG allows.</summary>
    private static readonly (byte ColourType, byte BitDepth)[] PngPixelFormats =
        [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)];

    /// <summary>
    /// The input as a PNG's image data behind a valid header: its first three bytes give the width and height
    /// (1 to 64) and the pixel format and interlacing; the rest, compressed, is the image data. Mutations then
    /// reach the inflate bound and the decoder's unfiltering with data too short, exact or too long, which a
    /// mutated PNG file rarely does (its zlib stream breaks first).
    /// </summary>
    public static void PngImageData(byte[] input)
    {
        if (input.Length < 3)
            return;
        (byte colourType, byte bitDepth) = PngPixelFormats[input[2] % PngPixelFormats.Length];
        byte[] header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1u + input[0] % 64u);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 1u + input[1] % 64u);
        header[8] = bitDepth;
        header[9] = colourType;
        header[12] = (byte)(input[2] / PngPixelFormats.Length % 2);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            zlib.Write(input, 3, input.Length - 3);
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var length = new byte[4];
        foreach ((string type, byte[] data) in new[] { ("IHDR", header), ("IDAT", compressed.ToArray()), ("IEND", Array.Empty<byte>()) })
        {
            // Neither our structure walk nor the decoder checks a chunk's CRC; it is left 0.
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
            png.Write(length);
            png.Write(System.Text.Encoding.ASCII.GetBytes(type));
            png.Write(data);
            png.Write([0, 0, 0, 0]);
        }
        ImageFileBytes(png.ToArray());
    }

    private static void Expected(Action parse)
    {
        try
        {
            parse();
        }
        catch (SmnistException)
        {
            // The parser's own verdict on a bad input.
        }
    }

    private static void Expected<T>(Func<T> parse) => Expected(() => { parse(); });

    /// <summary>A folder of this process's own, on a RAM disk when there is one: every input is written to a file.</summary>
    private static string Scratch()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string directory = Path.Combine(root, $"smnist-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
