using System.Numerics;
using System.Runtime.InteropServices;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// The engine's matrix product for any element type: float goes to the fast kernel, other types (double, for the
/// gradient checks) to <see cref="GemmReference"/>. Arguments as <see cref="GemmReference.Multiply"/>; a float product
/// may pass op(B) already packed (packedB), which then stands for b, ldb, transposeB.
/// </summary>
internal static class MatMul
{
    /// <summary>Run float products on the naive reference kernel on this thread: the baseline of the training-step benchmark.</summary>
    [ThreadStatic]
    internal static bool UseReferenceKernels;

    public static void Multiply<T>(Span<T> c, int ldc, ReadOnlySpan<T> a, int lda, bool transposeA,
                                   ReadOnlySpan<T> b, int ldb, bool transposeB, int m, int n, int k, bool accumulate,
                                   PackedMatrix? packedB = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packedB is not null && !UseReferenceKernels)
        {
            if (typeof(T) != typeof(float) || packedB.Rows != k || packedB.Columns != n)
                throw new ArgumentException($"a packed ({packedB.Rows}, {packedB.Columns}) float matrix cannot stand for a ({k}, {n}) {typeof(T).Name} one", nameof(packedB));
            Gemm.Multiply(MemoryMarshal.Cast<T, float>(c), ldc, MemoryMarshal.Cast<T, float>(a), lda, transposeA, packedB, m, accumulate);
            return;
        }
        if (typeof(T) == typeof(float) && !UseReferenceKernels)
        {
            Gemm.Multiply(MemoryMarshal.Cast<T, float>(c), ldc, MemoryMarshal.Cast<T, float>(a), lda, transposeA,
                MemoryMarshal.Cast<T, float>(b), ldb, transposeB, m, n, k, accumulate);
            return;
        }
        GemmReference.Multiply(c, ldc, a, lda, transposeA, b, ldb, transposeB, m, n, k, accumulate);
    }
}
