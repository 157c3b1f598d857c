using System.Numerics;
using System.Runtime.InteropServices;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// The engine's matrix products for any element type: float goes to the fast kernel, other types (double, for the
/// gradient checks) to <see cref="GemmReference"/>. The layers call them by what they compute, as llm.c's
/// matmul_forward/matmul_backward: a linear layer's forward product and its two gradients, outputs first, then
/// inputs, weights and sizes; each ld is the row stride of the buffer before it. A float product may pass the
/// weight already packed, which then stands for it.
/// </summary>
internal static class MatMul
{
    /// <summary>Run float products on the naive reference kernel on this thread: the baseline of the training-step benchmark.</summary>
    [ThreadStatic]
    internal static bool UseReferenceKernels;

    /// <summary>output (rows, outFeatures) = input (rows, inFeatures) · weightᵀ, with weight stored (outFeatures, inFeatures).</summary>
    public static void Linear<T>(Span<T> output, int ldOutput, ReadOnlySpan<T> input, int ldInput, ReadOnlySpan<T> weight, int ldWeight,
                                 int rows, int outFeatures, int inFeatures, PackedMatrix? packedWeight = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(output, ldOutput, input, ldInput, false, weight, ldWeight, true, rows, outFeatures, inFeatures, accumulate: false, packedWeight);

    /// <summary>inputGrad (rows, inFeatures) = outputGrad (rows, outFeatures) · weight, with weight stored (outFeatures, inFeatures).</summary>
    public static void LinearInputGradient<T>(Span<T> inputGrad, int ldInputGrad, ReadOnlySpan<T> outputGrad, int ldOutputGrad, ReadOnlySpan<T> weight, int ldWeight,
                                              int rows, int inFeatures, int outFeatures, PackedMatrix? packedWeight = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(inputGrad, ldInputGrad, outputGrad, ldOutputGrad, false, weight, ldWeight, false, rows, inFeatures, outFeatures, accumulate: false, packedWeight);

    /// <summary>
    /// weightGrad (outFeatures, inFeatures) = outputGradᵀ · input, plus the old weightGrad when
    /// <paramref name="accumulate"/>: the sum over rows of outputGrad (rows, outFeatures) and input (rows, inFeatures).
    /// </summary>
    public static void LinearWeightGradient<T>(Span<T> weightGrad, int ldWeightGrad, ReadOnlySpan<T> outputGrad, int ldOutputGrad, ReadOnlySpan<T> input, int ldInput,
                                               int rows, int outFeatures, int inFeatures, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(weightGrad, ldWeightGrad, outputGrad, ldOutputGrad, true, input, ldInput, false, outFeatures, inFeatures, rows, accumulate);

    /// <summary>C (m, n) = op(A) (m, k) · op(B) (k, n), plus the old C when <paramref name="accumulate"/>; see <see cref="GemmReference.Multiply"/>.</summary>
    private static void Multiply<T>(Span<T> c, int ldc, ReadOnlySpan<T> a, int lda, bool transposeA,
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
