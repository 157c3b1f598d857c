using Smnist.Kernels;

namespace Smnist.Tests.Kernels;

[Trait("Category", "unit")]
public sealed class ActivationsTests
{
    private const float Tolerance = 2e-6f;

    private static readonly float[] Specials =
    [
        0f, -0f, 1e-45f, -1e-45f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.5f, -0.5f, 9f, -9f, 15f, -15f, 87f, -87f,
        88.8f, -88.8f, 100f, -100f, 1e10f, -1e10f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
    ];

    public static TheoryData<string> Functions => new() { "sigmoid", "tanh" };

    private static void Fast(string function, ReadOnlySpan<float> x, Span<float> y)
    {
        if (function == "sigmoid")
        {
            Activations.Sigmoid(x, y);
        }
        else
        {
            Activations.Tanh(x, y);
        }
    }

    private static void Reference(string function, ReadOnlySpan<float> x, Span<float> y)
    {
        if (function == "sigmoid")
        {
            ActivationsReference.Sigmoid(x, y);
        }
        else
        {
            ActivationsReference.Tanh(x, y);
        }
    }

    /// <summary>Every length 1..256 (so every vector tail runs), values spread over ±20, ±100 and the special cases.</summary>
    [Theory]
    [MemberData(nameof(Functions))]
    public void MatchesReferenceForEveryLength(string function)
    {
        var random = new Random(function.Length);
        for (int length = 1; length <= 256; length++)
        {
            float[] x = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = (i % 5) switch
                {
                    0 => Specials[random.Next(Specials.Length)],
                    1 => (float)(random.NextDouble() * 200 - 100),
                    _ => (float)(random.NextDouble() * 40 - 20),
                };
            }
            // The output runs one element past the input: that element must stay untouched.
            float[] y = new float[length + 1];
            float[] expected = new float[length];
            y[length] = 42f;
            Fast(function, x, y);
            Reference(function, x, expected);
            Assert.Equal(42f, y[length]);
            for (int i = 0; i < length; i++)
            {
                Assert.True(Math.Abs(y[i] - expected[i]) <= Tolerance, $"{function}({x[i]}) = {y[i]}, reference {expected[i]} (length {length})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void DenseSweepStaysWithinTolerance(string function)
    {
        // Every 1/1024 step over [-20, 20], where the approximations do their work.
        float[] x = Enumerable.Range(-20 * 1024, 40 * 1024 + 1).Select(i => i / 1024f).ToArray();
        float[] y = new float[x.Length];
        float[] expected = new float[x.Length];
        Fast(function, x, y);
        Reference(function, x, expected);
        float worst = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(y[i] - expected[i]));
        }
        Assert.True(worst <= Tolerance, $"{function}: worst absolute error {worst}");
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void WorksInPlace(string function)
    {
        float[] x = Enumerable.Range(0, 77).Select(i => (i - 38) / 4f).ToArray();
        float[] expected = new float[x.Length];
        Reference(function, x, expected);
        Fast(function, x, x);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(x[i] - expected[i]) <= Tolerance);
        }
    }

    [Fact]
    public void PropagatesNaN()
    {
        float[] y = new float[2];
        Activations.Sigmoid([float.NaN, 0f], y);
        Assert.True(float.IsNaN(y[0]));
        Activations.Tanh([float.NaN, 0f], y);
        Assert.True(float.IsNaN(y[0]));
    }
}
