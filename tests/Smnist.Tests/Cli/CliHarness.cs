using System.IO.Compression;
using System.Text;
using Smnist.Cli;

namespace Smnist.Tests.Cli;

/// <summary>Runs the smnist command in-process, capturing what it writes.</summary>
public static class CliHarness
{
    public static readonly string DataDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mnist");

    public sealed record Outcome(int Exit, string Out, string Err);

    public static Outcome Run(params string[] args) => Run(CancellationToken.None, args);

    public static Outcome Run(CancellationToken cancel, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Smnist.Cli.Cli.Run(args, output, error, interactive: false, cancel);
        return new Outcome(exit, output.ToString(), error.ToString());
    }

    /// <summary>Asserts success, showing what the command said if it failed.</summary>
    public static Outcome Succeeds(params string[] args)
    {
        Outcome outcome = Run(args);
        Assert.True(outcome.Exit == 0, $"smnist {string.Join(' ', args)} exited {outcome.Exit}\nstdout: {outcome.Out}\nstderr: {outcome.Err}");
        return outcome;
    }

    /// <summary>Asserts that the command fails with <paramref name="exit"/> and one "error: ..." line on stderr containing <paramref name="expected"/>.</summary>
    public static Outcome FailsWith(int exit, string expected, params string[] args)
    {
        Outcome outcome = Run(args);
        Assert.True(outcome.Exit == exit, $"smnist {string.Join(' ', args)} exited {outcome.Exit}, not {exit}\nstdout: {outcome.Out}\nstderr: {outcome.Err}");
        string[] lines = outcome.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{outcome.Err}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        return outcome;
    }

    /// <summary>A fresh temporary directory, deleted with the returned handle.</summary>
    public static TempDirectory TempDir() => new();

    public sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("smnist-cli-").FullName;

        public string this[string name] => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The first <paramref name="count"/> test images and labels of the committed subset.</summary>
    public static (byte[] Images, byte[] Labels) TestImages(int count)
    {
        byte[] images = Gunzip(System.IO.Path.Combine(DataDir, "t10k-images-idx3-ubyte.gz"));
        byte[] labels = Gunzip(System.IO.Path.Combine(DataDir, "t10k-labels-idx1-ubyte.gz"));
        return (images.AsSpan(16, count * 784).ToArray(), labels.AsSpan(8, count).ToArray());
    }

    private static byte[] Gunzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>A minimal PNG encoder (8-bit RGB, no filtering), so tests can make image files without a dependency.</summary>
    public static void WritePng(string path, byte[] rgb, int width, int height)
    {
        var header = new byte[13];
        WriteBigEndian(header, 0, (uint)width);
        WriteBigEndian(header, 4, (uint)height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter: none
                zlib.Write(rgb, y * width * 3, width * 3);
            }
        }
        WritePngChunks(path, ("IHDR", header), ("IDAT", compressed.ToArray()), ("IEND", []));
    }

    /// <summary>A PNG file of the given chunks (type, data), after the signature.</summary>
    public static void WritePngChunks(string path, params (string Type, byte[] Data)[] chunks)
    {
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        foreach (var (type, data) in chunks)
            WriteChunk(file, type, data);
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        WriteBigEndian(length, 0, (uint)data.Length);
        stream.Write(length);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        stream.Write(typeAndData);
        var crc = new byte[4];
        WriteBigEndian(crc, 0, Crc32(typeAndData));
        stream.Write(crc);
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
