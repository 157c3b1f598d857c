using System.Numerics;
using System.Numerics.Tensors;

namespace Smnist.Nn;

/// <summary>
/// Softmax and log-sum-exp with the largest logit subtracted first, so no exponential overflows: e^89 is already
/// infinite in float, and System.Numerics.Tensors' SoftMax exponentiates the logits as they are. Every probability
/// and every loss smnist computes goes through here.
/// </summary>
internal static class Softmax
{
    /// <summary>probabilities = e^(x − max x) / Σ e^(x − max x); finite and summing to 1 for any finite logits.</summary>
    public static void Apply(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, probabilities);
        TensorPrimitives.Exp(probabilities, probabilities);
        TensorPrimitives.Divide(probabilities, TensorPrimitives.Sum<float>(probabilities), probabilities);
    }

    /// <summary>log Σ e^x = max x + log Σ e^(x − max x).</summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = row[0];
        for (int k = 1; k < row.Length; k++)
            max = T.Max(max, row[k]);
        T sum = T.Zero;
        for (int k = 0; k < row.Length; k++)
            sum += T.Exp(row[k] - max);
        return max + T.Log(sum);
    }
}
