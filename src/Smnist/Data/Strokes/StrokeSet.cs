using System.Security.Cryptography;
using Smnist.Data.Acquisition;
using Smnist.IO;

namespace Smnist.Data.Strokes;

/// <summary>
/// The pen traces of every image of an <see cref="ImageSet"/>, traced in parallel or read from a cache file named by
/// the conversion's <see cref="StrokeEncoding.Version"/> and the SHA-256 of the images, and checked against the
/// SHA-256 it ends with; a file that fails the check is traced again and rewritten.
/// </summary>
public sealed class StrokeSet
{
    private static ReadOnlySpan<byte> Magic => "SMNISTSTROKES\n"u8;

    private readonly PenTrace[] _traces;

    private StrokeSet(PenTrace[] traces) => _traces = traces;

    /// <summary>Number of traces, one per image.</summary>
    public int Count => _traces.Length;

    /// <summary>The trace of image <paramref name="index"/>.</summary>
    public PenTrace this[int index] => _traces[index];

    /// <summary>The cache folder beside the downloaded data sets: <c>$XDG_CACHE_HOME/smnist/strokes</c> (or <c>~/.cache/smnist/strokes</c>).</summary>
    public static string DefaultCacheDirectory =>
        Path.Combine(Path.GetDirectoryName(DataAcquisition.DefaultCacheDirectory(DatasetKind.Mnist))!, "strokes");

    /// <summary>Traces every image of <paramref name="set"/>, reading and writing the cache in <paramref name="cacheDirectory"/> when one is given.</summary>
    public static StrokeSet Trace(ImageSet set, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        string? cachePath = cacheDirectory is null ? null : Path.Combine(cacheDirectory, CacheFileName(set));
        if (cachePath is not null && TryRead(cachePath, set.Count) is PenTrace[] cached)
            return new StrokeSet(cached);
        var traces = new PenTrace[set.Count];
        Parallel.For(0, set.Count, index => traces[index] = StrokeTracer.Trace(set.Image(index)));
        if (cachePath is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            byte[] content = Serialize(traces);
            AtomicFile.Write(cachePath, stream => stream.Write(content));
        }
        return new StrokeSet(traces);
    }

    /// <summary>strokes-v{version}-{first 16 hex digits of the images' SHA-256}-{count}.bin</summary>
    internal static string CacheFileName(ImageSet set) =>
        $"strokes-v{StrokeEncoding.Version}-{Convert.ToHexStringLower(SHA256.HashData(set.Images))[..16]}-{set.Count}.bin";

    /// <summary>Magic, count, then per trace: points (u16), strokes (u16), x and y bytes, stroke ends (u16); then the SHA-256 of all before it.</summary>
    internal static byte[] Serialize(PenTrace[] traces)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(traces.Length);
            foreach (PenTrace trace in traces)
            {
                writer.Write((ushort)trace.Length);
                writer.Write((ushort)trace.Strokes);
                foreach (float x in trace.X)
                    writer.Write((byte)x);
                foreach (float y in trace.Y)
                    writer.Write((byte)y);
                foreach (int end in trace.StrokeEnds)
                    writer.Write((ushort)end);
            }
        }
        memory.Write(SHA256.HashData(memory.GetBuffer().AsSpan(0, (int)memory.Length)));
        return memory.ToArray();
    }

    /// <summary>The traces in <paramref name="path"/>, or null when it is missing, damaged or for another count.</summary>
    internal static PenTrace[]? TryRead(string path, int count)
    {
        if (!File.Exists(path))
            return null;
        byte[] content = File.ReadAllBytes(path);
        const int hashSize = 32;
        if (content.Length < Magic.Length + 4 + hashSize
            || !SHA256.HashData(content.AsSpan(0, content.Length - hashSize)).AsSpan().SequenceEqual(content.AsSpan(content.Length - hashSize))
            || !content.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return null;
        }
        using var reader = new BinaryReader(new MemoryStream(content, 0, content.Length - hashSize));
        reader.ReadBytes(Magic.Length);
        if (reader.ReadInt32() != count)
            return null;
        var traces = new PenTrace[count];
        for (int index = 0; index < count; index++)
        {
            int points = reader.ReadUInt16(), strokes = reader.ReadUInt16();
            float[] x = reader.ReadBytes(points).Select(b => (float)b).ToArray();
            float[] y = reader.ReadBytes(points).Select(b => (float)b).ToArray();
            var ends = new int[strokes];
            for (int s = 0; s < strokes; s++)
                ends[s] = reader.ReadUInt16();
            traces[index] = new PenTrace(x, y, ends);
        }
        return traces;
    }
}
