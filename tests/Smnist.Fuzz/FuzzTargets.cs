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
