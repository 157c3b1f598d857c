using System.Buffers.Binary;
using System.Text;
using Smnist.IO;

namespace Smnist.Tests.IO;

[Trait("Category", "unit")]
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smnist-st-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathFor(string name) => Path.Combine(_directory, name);

    [Fact]
    public void RoundTripPreservesTensorsOrderAndMetadata()
    {
        var tensors = new[]
        {
            new SafeTensor("b.weight", [2, 3], [1f, -2f, 3.5f, float.MaxValue, float.Epsilon, -0f]),
            new SafeTensor("a.bias", [3], [0.1f, 0.2f, 0.3f]),
            new SafeTensor("scalar", [], [42f]),
            new SafeTensor("empty", [0, 4], []),
            new SafeTensor("ünïcode name", [1], [float.NaN]),
        };
        var metadata = new Dictionary<string, string> { ["hidden"] = "128", ["view"] = "rows", ["quote"] = "a \"b\"\n" };
        string path = PathFor("model.safetensors");

        SafeTensors.Write(path, tensors, metadata);
        SafeTensorsFile file = SafeTensors.Read(path);

        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (SafeTensor expected in tensors)
        {
            SafeTensor actual = file.Get(expected.Name);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Data.Select(BitConverter.SingleToInt32Bits), actual.Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(metadata, file.Metadata);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void HeaderIsPaddedToEightBytesAndDataIsLittleEndian()
    {
        string path = PathFor("layout.safetensors");
        SafeTensors.Write(path, [new SafeTensor("x", [2], [1f, 2f])]);
        byte[] bytes = File.ReadAllBytes(path);

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Equal("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.TrimEnd(' '));
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength)));
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(12 + (int)headerLength)));
        Assert.Equal(8 + (int)headerLength + 8, bytes.Length);
    }

    [Fact]
    public void EmptyFileWithMetadataMatchesTheReferenceWriterByteForByte()
    {
        // Expected bytes from huggingface/safetensors' own test_empty.
        string path = PathFor("empty.safetensors");
        SafeTensors.Write(path, [], new Dictionary<string, string> { ["framework"] = "pt" });
        byte[] expected =
        [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102,
            114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
        ];
        Assert.Equal(expected, File.ReadAllBytes(path));
        SafeTensors.Write(path, []);
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void ReadsTensorsStoredOutOfHeaderOrder()
    {
        string path = WriteRaw("reordered.safetensors",
            "{\"second\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"first\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
            Floats(1f, 2f));
        SafeTensorsFile file = SafeTensors.Read(path);
        Assert.Equal(["first", "second"], file.Tensors.Select(t => t.Name));
        Assert.Equal(2f, file.Get("second").Data[0]);
    }

    [Fact]
    public void GetNamesTheFileAndTheMissingTensor()
    {
        string path = PathFor("one.safetensors");
        SafeTensors.Write(path, [new SafeTensor("present", [1], [1f])]);
        SafeTensorsFile file = SafeTensors.Read(path);
        Assert.False(file.TryGet("absent", out _));
        var error = Assert.Throws<SmnistException>(() => file.Get("absent"));
        Assert.Equal($"{path}: tensor 'absent' is missing", error.Message);
    }

    [Fact]
    public void WriteRejectsInconsistentTensors()
    {
        string path = PathFor("bad.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new SafeTensor("x", [2, 2], [1f])]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new SafeTensor("x", [1], [1f]), new SafeTensor("x", [1], [1f])]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new SafeTensor("__metadata__", [1], [1f])]));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(_directory));
    }

    public static TheoryData<string, byte[], string> MalformedFiles() => new()
    {
        { "truncated", [1, 2, 3], "file is 3 bytes, too short for a safetensors file (at least 8)" },
        { "lying length", Raw(1000, "{}", []), "header length 1000 runs past the end of the file (10 bytes)" },
        { "huge length", Raw(1UL << 40, "{}", []), "header length 1099511627776 exceeds the limit of 100000000 bytes" },
        { "bad json", Raw("{\"x\": {\"dtype\": ", []), "header is not valid JSON" },
        { "not utf8", Raw(null, [(byte)'{', 0xFF, (byte)'}'], []), "header is not valid UTF-8" },
        { "array root", Raw("[1, 2]", []), "header must be a JSON object, found an array" },
        { "entry not object", Raw("{\"x\": 3}", []), "tensor 'x' must be an object, found a number" },
        { "unsupported dtype", Raw(Entry("x", "BF16", "[2]", "[0,4]"), new byte[4]), "tensor 'x': dtype BF16 is not supported (F32 only)" },
        { "unknown dtype", Raw(Entry("x", "Q7", "[1]", "[0,4]"), new byte[4]), "tensor 'x' has unknown dtype 'Q7'" },
        { "missing shape", Raw("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'x' has no 'shape'" },
        { "negative dimension", Raw(Entry("x", "F32", "[-1]", "[0,4]"), new byte[4]), "tensor 'x' shape has an invalid dimension -1" },
        { "shape mismatch", Raw(Entry("x", "F32", "[2, 3]", "[0,20]"), new byte[20]), "tensor 'x' shape [2, 3] needs 24 bytes (6 elements) but data_offsets [0, 20] span 20 bytes" },
        { "overflowing shape", Raw(Entry("x", "F32", "[4294967296, 4294967296, 4294967296]", "[0,4]"), new byte[4]), "tensor 'x' shape dimension 4294967296 is too large" },
        { "huge shape", Raw(Entry("x", "F32", "[2000000000, 2000000000]", "[0,4]"), new byte[4]), "shape [2000000000, 2000000000] needs more bytes than the data buffer holds (4)" },
        { "offsets past end", Raw(Entry("x", "F32", "[25]", "[0,100]"), new byte[40]), "tensor 'x' data_offsets [0, 100] run past the end of the data buffer (40 bytes)" },
        { "reversed offsets", Raw(Entry("x", "F32", "[1]", "[8,4]"), new byte[8]), "tensor 'x' data_offsets [8, 4] end before they begin" },
        { "bad offsets", Raw(Entry("x", "F32", "[1]", "[0]"), new byte[4]), "tensor 'x' data_offsets must be two non-negative integers, found [0]" },
        { "overlap", Raw("{" + Body("a", "[3]", "[0,12]") + "," + Body("b", "[2]", "[8,16]") + "}", new byte[16]), "tensor 'b' data_offsets [8, 16] overlap tensor 'a' [0, 12]" },
        { "gap", Raw("{" + Body("a", "[1]", "[0,4]") + "," + Body("b", "[1]", "[8,12]") + "}", new byte[12]), "data buffer has a gap: bytes 4..8 before tensor 'b' belong to no tensor" },
        { "trailing bytes", Raw(Entry("x", "F32", "[1]", "[0,4]"), new byte[12]), "data buffer is 12 bytes but the tensors cover 4 (trailing bytes)" },
        { "duplicate name", Raw("{" + Body("a", "[1]", "[0,4]") + "," + Body("a", "[1]", "[4,8]") + "}", new byte[8]), "tensor 'a' appears twice in the header" },
        { "metadata not strings", Raw("{\"__metadata__\":{\"hidden\":128}}", []), "__metadata__ value 'hidden' must be a string, found a number" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void MalformedFilesFailWithAMessageNamingFileAndProblem(string name, byte[] content, string expectedProblem)
    {
        string path = PathFor(name.Replace(' ', '-') + ".safetensors");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<SmnistException>(() => SafeTensors.Read(path));
        Assert.StartsWith($"{path}: ", error.Message);
        Assert.Contains(expectedProblem, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingFileIsAUserError()
    {
        string path = PathFor("nowhere.safetensors");
        var error = Assert.Throws<SmnistException>(() => SafeTensors.Read(path));
        Assert.Equal($"{path}: file not found", error.Message);
    }

    private string WriteRaw(string name, string header, byte[] data)
    {
        string path = PathFor(name);
        File.WriteAllBytes(path, Raw(header, data));
        return path;
    }

    private static string Body(string name, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"{{\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}";

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return bytes;
    }

    private static byte[] Raw(string header, byte[] data) => Raw(null, Encoding.UTF8.GetBytes(header), data);

    private static byte[] Raw(ulong declaredLength, string header, byte[] data) => Raw(declaredLength, Encoding.UTF8.GetBytes(header), data);

    private static byte[] Raw(ulong? declaredLength, byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}
