using System.Buffers;
using System.Text.Json;
using Smnist.Cli.Serve;

namespace Smnist.Tests.Serve;

[Trait("Category", "unit")]
public sealed class TraceJsonTests
{
    /// <summary>Every k / 10⁴ up to 300 in size, past where the text is written from k, in batches of 100,000.</summary>
    [Fact]
    public void RoundedValuesAreWrittenAsWriteNumberValueWritesTheRoundedFloat()
    {
        var values = new float[100_000];
        for (int first = -3_000_000; first < 3_000_000; first += values.Length)
        {
            for (int k = 0; k < values.Length; k++)
                values[k] = (first + k) / 1e4f;
            AssertSameText(values);
        }
    }

    [Fact]
    public void UnroundedValuesAreWrittenAsWriteNumberValueWritesTheRoundedFloat()
    {
        var random = new Random(4);
        float[] values = [.. Enumerable.Range(0, 200_000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 4)))),
            -0f, 0f, -0.00004f, 0.00005f, -0.00005f, 0.99996f, -0.99996f, 255.99996f, 256f, -256f, 1e6f, -3.4e38f];
        AssertSameText(values);
    }

    private static void AssertSameText(float[] values)
    {
        var expected = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(expected))
        {
            writer.WriteStartArray();
            foreach (float value in values)
                writer.WriteNumberValue(MathF.Round(value, TraceJson.GateDecimals) + 0f);
            writer.WriteEndArray();
        }
        var actual = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(actual))
            TraceJson.WriteRounded(writer, values);
        Assert.True(expected.WrittenSpan.SequenceEqual(actual.WrittenSpan), "the texts differ");
    }
}
