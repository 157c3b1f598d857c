using System.Numerics.Tensors;
using Smnist.Kernels;
using Smnist.Nn;

namespace Smnist.Tests.Kernels;

[Trait("Category", "unit")]
public sealed class LstmPointwiseTests
{
    public static TheoryData<int, bool> Rows => new()
    {
        { 16, false }, { 16, true }, { 128, false }, { 128, true }, { 256, false }, { 256, true },
    };

    /// <summary>The fused row against the separate passes it replaces, bit for bit, on whatever SIMD tier runs the tests.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void TheFusedRowGivesTheSameBitsAsTheSeparatePasses(int n, bool refineGate)
    {
        var random = new Random(n + (refineGate ? 1 : 0));
        float[] preActivations = Draw(random, 4 * n, 6f), bias = Draw(random, 4 * n, 1f), previousCell = Draw(random, n, 3f);
        preActivations[0] = 100f; // saturated gates and extreme values take the same path as any other
        preActivations[3 * n] = -40f;
        previousCell[1] = 0f;

        float[] gates = (float[])preActivations.Clone(), cell = new float[n], tanhCell = new float[n], output = new float[n];
        LstmPointwise.Forward(gates, bias, previousCell, cell, tanhCell, output, refineGate);

        float[] expectedGates = (float[])preActivations.Clone(), expectedCell = new float[n], expectedTanh = new float[n], expectedOutput = new float[n];
        TensorPrimitives.Add(expectedGates, bias, expectedGates);
        Activations.Sigmoid(expectedGates.AsSpan(0, 3 * n), expectedGates.AsSpan(0, 3 * n));
        Activations.Tanh(expectedGates.AsSpan(3 * n), expectedGates.AsSpan(3 * n));
        ReadOnlySpan<float> f = expectedGates.AsSpan(0, n), i = expectedGates.AsSpan(n, n), o = expectedGates.AsSpan(2 * n, n), candidate = expectedGates.AsSpan(3 * n, n);
        if (refineGate)
        {
            var effective = new float[n];
            LstmCell.EffectiveGate(f, i, effective);
            for (int k = 0; k < n; k++)
                expectedCell[k] = candidate[k] + effective[k] * (previousCell[k] - candidate[k]);
        }
        else
        {
            TensorPrimitives.Multiply(f, previousCell, expectedCell);
            TensorPrimitives.FusedMultiplyAdd(i, candidate, expectedCell, expectedCell);
        }
        Activations.Tanh(expectedCell, expectedTanh);
        TensorPrimitives.Multiply(o, expectedTanh, expectedOutput);

        Assert.Equal(Bits(expectedGates), Bits(gates));
        Assert.Equal(Bits(expectedCell), Bits(cell));
        Assert.Equal(Bits(expectedTanh), Bits(tanhCell));
        Assert.Equal(Bits(expectedOutput), Bits(output));
    }

    [Fact]
    public void ARowThatIsNotWholeVectorsIsRefused()
    {
        int n = LstmPointwise.Lanes + 1;
        Assert.False(LstmPointwise.Fits(n));
        Assert.Throws<ArgumentException>(() => LstmPointwise.Forward(new float[4 * n], new float[4 * n], new float[n], new float[n], new float[n], new float[n], refineGate: false));
    }

    private static float[] Draw(Random random, int count, float scale)
    {
        var values = new float[count];
        for (int k = 0; k < count; k++)
            values[k] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);
}
