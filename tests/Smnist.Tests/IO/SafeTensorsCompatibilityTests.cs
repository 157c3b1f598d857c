using Smnist.IO;

namespace Smnist.Tests.IO;

/// <summary>Reads a file written independently of our writer by tools/reference/safetensors_fixture.py.</summary>
[Trait("Category", "unit")]
public sealed class SafeTensorsCompatibilityTests
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "safetensors", "reference.safetensors");

    // Mirrors values() in the Python script.
    private static float[] Expected(string name, int count) =>
        Enumerable.Range(0, count).Select(i => (float)((i - count / 2) / 8.0 + name.Length)).ToArray();

    [Fact]
    public void ReadsTheReferenceFile()
    {
        SafeTensorsFile file = SafeTensors.Read(FixturePath);

        Assert.Equal("pt", file.Metadata["format"]);
        var shapes = new Dictionary<string, int[]>
        {
            ["readout.weight"] = [10, 4],
            ["readout.bias"] = [10],
            ["lstm.0.forget.weight"] = [4, 5],
            ["lstm.0.forget.bias"] = [4],
            ["scalar"] = [],
            ["empty"] = [0, 3],
        };
        Assert.Equal(shapes.Count, file.Tensors.Count);
        foreach (var (name, shape) in shapes)
        {
            SafeTensor tensor = file.Get(name);
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(Expected(name, shape.Aggregate(1, (a, b) => a * b)), tensor.Data);
        }
    }

    [Fact]
    public void RewritingTheReferenceTensorsReproducesItsDataBuffer()
    {
        // The Python writer orders tensors by name (all F32), as the Rust writer does; so does this rewrite.
        SafeTensorsFile file = SafeTensors.Read(FixturePath);
        string path = Path.Combine(Directory.CreateTempSubdirectory("smnist-compat-").FullName, "copy.safetensors");
        try
        {
            SafeTensors.Write(path, file.Tensors, file.Metadata);
            byte[] original = File.ReadAllBytes(FixturePath);
            byte[] copy = File.ReadAllBytes(path);
            int dataBytes = file.Tensors.Sum(t => t.Data.Length * sizeof(float));
            Assert.Equal(original.AsSpan(original.Length - dataBytes).ToArray(), copy.AsSpan(copy.Length - dataBytes).ToArray());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
