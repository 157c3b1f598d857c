namespace Smnist.Kernels;

/// <summary>Scalar MathF activations: the reference path that <see cref="Activations"/> is tested against.</summary>
internal static class ActivationsReference
{
    /// <summary>y = 1 / (1 + e^-x), element-wise; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        RequireOutput(x, y);
        for (int i = 0; i < x.Length; i++)
            y[i] = 1f / (1f + MathF.Exp(-x[i]));
    }

    /// <summary>y = tanh(x), element-wise; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        RequireOutput(x, y);
        for (int i = 0; i < x.Length; i++)
            y[i] = MathF.Tanh(x[i]);
    }

    internal static void RequireOutput(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length)
            throw new ArgumentException($"output holds {y.Length} elements, input {x.Length}", nameof(y));
    }
}
