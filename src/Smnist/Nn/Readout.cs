using System.Numerics;
using System.Numerics.Tensors;

namespace Smnist.Nn;

/// <summary>The linear readout of the last layer's final output: logits = v_T · Rᵀ + r.</summary>
internal static class Readout
{
    public static void Forward<T>(
        KernelSet kernels,
        Span<T> logits,         // (B, K)
        ReadOnlySpan<T> input,  // (B, n)
        ReadOnlySpan<T> weight, // (K, n)
        ReadOnlySpan<T> bias,   // (K)
        int batch, int inputSize, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        kernels.Linear(logits, classes, input, inputSize, weight, inputSize, rows: batch, outFeatures: classes, inFeatures: inputSize); // (B, K) = (B, n) · (K, n)ᵀ
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(logits.Slice(b * classes, classes), bias[..classes], logits.Slice(b * classes, classes));
    }

    public static void Backward<T>(
        KernelSet kernels,
        Span<T> weightGrad,          // (K, n), overwritten
        Span<T> biasGrad,            // (K), overwritten
        Span<T> inputGrad,           // (B, n), overwritten
        ReadOnlySpan<T> logitsGrad,  // (B, K)
        ReadOnlySpan<T> input,       // (B, n)
        ReadOnlySpan<T> weight,      // (K, n)
        int batch, int inputSize, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        kernels.LinearWeightGradient(weightGrad, inputSize, logitsGrad, classes, input, inputSize, rows: batch, outFeatures: classes, inFeatures: inputSize, accumulate: false); // (K, n) = (B, K)ᵀ · (B, n)
        biasGrad[..classes].Clear();
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(biasGrad[..classes], logitsGrad.Slice(b * classes, classes), biasGrad[..classes]);
        kernels.LinearInputGradient(inputGrad, inputSize, logitsGrad, classes, weight, inputSize, rows: batch, inFeatures: inputSize, outFeatures: classes); // (B, n) = (B, K) · (K, n)
    }
}
