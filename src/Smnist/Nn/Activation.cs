using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// The engine's element-wise nonlinearities for any element type: float through the fast kernels (or their scalar
/// references, with <see cref="MatMul.UseReferenceKernels"/>), others (double, for the gradient checks) through
/// TensorPrimitives.
/// </summary>
internal static class Activation
{
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && MatMul.UseReferenceKernels)
            ActivationsReference.Sigmoid(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(float))
            Activations.Sigmoid(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else
            TensorPrimitives.Sigmoid(x, y);
    }

    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && MatMul.UseReferenceKernels)
            ActivationsReference.Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(float))
            Activations.Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else
            TensorPrimitives.Tanh(x, y);
    }
}
