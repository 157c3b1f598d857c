using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// The kernels a model computes with, chosen per model (<see cref="SequenceClassifier{T}.Kernels"/>) and passed
/// down to every layer, so the worker threads of a batch use the same ones: <see cref="Fast"/> (the packed SIMD
/// kernels) or <see cref="Reference"/> (the naive loops, the baseline the fast ones are tested and benchmarked
/// against). Types other than float (double, for the gradient checks) always take <see cref="GemmReference"/> and
/// TensorPrimitives. The products are named by what they compute, as llm.c's matmul_forward/matmul_backward: a
/// linear layer's forward product and its two gradients, outputs first, then inputs, weights and sizes; each ld is
/// the row stride of the buffer before it. A float product may pass the weight already packed, which then stands
/// for it (the reference kernels ignore it).
/// </summary>
internal sealed class KernelSet
{
    private readonly bool _reference;

    private KernelSet(bool reference) => _reference = reference;

    /// <summary>The packed SIMD kernels.</summary>
    public static KernelSet Fast { get; } = new(reference: false);

    /// <summary>The naive loops and scalar activations.</summary>
    public static KernelSet Reference { get; } = new(reference: true);

    /// <summary>output (rows, outFeatures) = input (rows, inFeatures) · weightᵀ, with weight stored (outFeatures, inFeatures).</summary>
    public void Linear<T>(Span<T> output, int ldOutput, ReadOnlySpan<T> input, int ldInput, ReadOnlySpan<T> weight, int ldWeight,
                                 int rows, int outFeatures, int inFeatures, PackedMatrix? packedWeight = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(output, ldOutput, input, ldInput, false, weight, ldWeight, true, rows, outFeatures, inFeatures, accumulate: false, packedWeight);

    /// <summary>inputGrad (rows, inFeatures) = outputGrad (rows, outFeatures) · weight, with weight stored (outFeatures, inFeatures).</summary>
    public void LinearInputGradient<T>(Span<T> inputGrad, int ldInputGrad, ReadOnlySpan<T> outputGrad, int ldOutputGrad, ReadOnlySpan<T> weight, int ldWeight,
                                              int rows, int inFeatures, int outFeatures, PackedMatrix? packedWeight = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(inputGrad, ldInputGrad, outputGrad, ldOutputGrad, false, weight, ldWeight, false, rows, inFeatures, outFeatures, accumulate: false, packedWeight);

    /// <summary>
    /// weightGrad (outFeatures, inFeatures) = outputGradᵀ · input, plus the old weightGrad when
    /// <paramref name="accumulate"/>: the sum over rows of outputGrad (rows, outFeatures) and input (rows, inFeatures).
    /// </summary>
    public void LinearWeightGradient<T>(Span<T> weightGrad, int ldWeightGrad, ReadOnlySpan<T> outputGrad, int ldOutputGrad, ReadOnlySpan<T> input, int ldInput,
                                               int rows, int outFeatures, int inFeatures, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(weightGrad, ldWeightGrad, outputGrad, ldOutputGrad, true, input, ldInput, false, outFeatures, inFeatures, rows, accumulate);

    /// <summary>C (m, n) = op(A) (m, k) · op(B) (k, n), plus the old C when <paramref name="accumulate"/>; see <see cref="GemmReference.Multiply"/>.</summary>
    private void Multiply<T>(Span<T> c, int ldc, ReadOnlySpan<T> a, int lda, bool transposeA,
                                   ReadOnlySpan<T> b, int ldb, bool transposeB, int m, int n, int k, bool accumulate,
                                   PackedMatrix? packedB = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packedB is not null && !_reference)
        {
            if (typeof(T) != typeof(float) || packedB.Rows != k || packedB.Columns != n)
                throw new ArgumentException($"a packed ({packedB.Rows}, {packedB.Columns}) float matrix cannot stand for a ({k}, {n}) {typeof(T).Name} one", nameof(packedB));
            Gemm.Multiply(MemoryMarshal.Cast<T, float>(c), ldc, MemoryMarshal.Cast<T, float>(a), lda, transposeA, packedB, m, accumulate);
            return;
        }
        if (typeof(T) == typeof(float) && !_reference)
        {
            Gemm.Multiply(MemoryMarshal.Cast<T, float>(c), ldc, MemoryMarshal.Cast<T, float>(a), lda, transposeA,
                MemoryMarshal.Cast<T, float>(b), ldb, transposeB, m, n, k, accumulate);
            return;
        }
        GemmReference.Multiply(c, ldc, a, lda, transposeA, b, ldb, transposeB, m, n, k, accumulate);
    }

    /// <summary>
    /// One batch row of an LSTM forward step in one pass (<see cref="LstmPointwise.Forward"/>), when the fast float
    /// kernels run and n fits its vectors; false, touching nothing, when the caller must take the separate passes.
    /// </summary>
    public bool TryLstmForwardRow<T>(Span<T> gates, ReadOnlySpan<T> bias, ReadOnlySpan<T> previousCell, Span<T> cell, Span<T> tanhCell, Span<T> output, bool refineGate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (_reference || typeof(T) != typeof(float) || !LstmPointwise.Fits(cell.Length))
            return false;
        LstmPointwise.Forward(MemoryMarshal.Cast<T, float>(gates), MemoryMarshal.Cast<T, float>(bias), MemoryMarshal.Cast<T, float>(previousCell),
            MemoryMarshal.Cast<T, float>(cell), MemoryMarshal.Cast<T, float>(tanhCell), MemoryMarshal.Cast<T, float>(output), refineGate);
        return true;
    }

    /// <summary>y = σ(x), element-wise.</summary>
    public void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && _reference)
            ActivationsReference.Sigmoid(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(float))
            Activations.Sigmoid(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else
            TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary>y = tanh(x), element-wise.</summary>
    public void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && _reference)
            ActivationsReference.Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(float))
            Activations.Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else
            TensorPrimitives.Tanh(x, y);
    }
}
