using System.Numerics;
using System.Numerics.Tensors;

namespace Smnist.Nn;

/// <summary>The linear readout of the last layer's final output: logits = v_T · Rᵀ + r.</summary>
internal static class Readout
{
    public static void Forward<T>(
        Span<T> logits,         // (B, K)
        ReadOnlySpan<T> input,  // (B, n)
        ReadOnlySpan<T> weight, // (K, n)
        ReadOnlySpan<T> bias,   // (K)
        int batch, int inputSize, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MatMul.Multiply(logits, classes, input, inputSize, false, weight, inputSize, true, batch, classes, inputSize, accumulate: false);
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(logits.Slice(b * classes, classes), bias[..classes], logits.Slice(b * classes, classes));
    }

    public static void Backward<T>(
        Span<T> weightGrad,          // (K, n), overwritten
        Span<T> biasGrad,            // (K), overwritten
        Span<T> inputGrad,           // (B, n), overwritten
        ReadOnlySpan<T> logitsGrad,  // (B, K)
        ReadOnlySpan<T> input,       // (B, n)
        ReadOnlySpan<T> weight,      // (K, n)
        int batch, int inputSize, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MatMul.Multiply(weightGrad, inputSize, logitsGrad, classes, true, input, inputSize, false, classes, inputSize, batch, accumulate: false);
        biasGrad[..classes].Clear();
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(biasGrad[..classes], logitsGrad.Slice(b * classes, classes), biasGrad[..classes]);
        MatMul.Multiply(inputGrad, inputSize, logitsGrad, classes, false, weight, inputSize, false, batch, inputSize, classes, accumulate: false);
    }
}
