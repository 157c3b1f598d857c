using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Tests.Data;

/// <summary>A temporary folder deleted with the test.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory() => Path = Directory.CreateTempSubdirectory("smnist-data-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

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

/// <summary>Builds IDX content in memory: small synthetic sets whose every byte the test controls.</summary>
internal static class IdxBuilder
{
    public static string FixtureMnistDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "mnist");

    public static byte[] Images(int count, int seed = 1, int rows = 28, int columns = 28, int magic = Idx.ImagesMagic)
    {
        byte[] content = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(content, magic);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(12), columns);
        new Random(seed).NextBytes(content.AsSpan(16));
        return content;
    }

    public static byte[] Labels(int count, int seed = 2, int magic = Idx.LabelsMagic)
    {
        byte[] content = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(content, magic);
        BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4), count);
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            content[8 + i] = (byte)random.Next(10);
        }
        return content;
    }

    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(content);
        }
        return output.ToArray();
    }

    public static string Md5(byte[] content) => Convert.ToHexStringLower(MD5.HashData(content));

    /// <summary>The four files of a small synthetic data set, uncompressed, by their original names.</summary>
    public static Dictionary<string, byte[]> SmallDataset(int trainCount = 50, int testCount = 20) => new()
    {
        ["train-images-idx3-ubyte"] = Images(trainCount, seed: 11),
        ["train-labels-idx1-ubyte"] = Labels(trainCount, seed: 12),
        ["t10k-images-idx3-ubyte"] = Images(testCount, seed: 13),
        ["t10k-labels-idx1-ubyte"] = Labels(testCount, seed: 14),
    };

    internal static DatasetFile[] Specs(Dictionary<string, byte[]> files) =>
        files.Select(pair => new DatasetFile(pair.Key, pair.Value.Length, Md5(pair.Value))).ToArray();

    /// <summary>A synthetic set whose image i has every pixel equal to i % 256 and label i % 10, for order checks.</summary>
    public static ImageSet Numbered(int count)
    {
        byte[] images = new byte[count * ImageSet.Pixels];
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            images.AsSpan(i * ImageSet.Pixels, ImageSet.Pixels).Fill((byte)(i % 256));
            labels[i] = (byte)(i % 10);
        }
        return new ImageSet(images, labels);
    }
}
