using System.Numerics.Tensors;

namespace Smnist.Kernels;

/// <summary>Vectorised element-wise activations; <c>y</c> may be <c>x</c> itself (in place). No allocation.</summary>
public static class Activations
{
    /// <summary>y = 1 / (1 + e^-x), element-wise.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        ActivationsReference.RequireOutput(x, y);
        TensorPrimitives.Sigmoid(x, y[..x.Length]);
    }

    /// <summary>y = tanh(x), element-wise.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        ActivationsReference.RequireOutput(x, y);
        TensorPrimitives.Tanh(x, y[..x.Length]);
    }
}
