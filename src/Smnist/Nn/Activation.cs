using System.Numerics;
using System.Numerics.Tensors;

namespace Smnist.Nn;

/// <summary>The engine's element-wise nonlinearities for any element type.</summary>
internal static class Activation
{
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Sigmoid(x, y);

    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Tanh(x, y);
}
