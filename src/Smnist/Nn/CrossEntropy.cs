using System.Numerics;
using Smnist.Data;

namespace Smnist.Nn;

/// <summary>
/// Softmax cross-entropy of logits against integer labels, computed through log-sum-exp. Per-step labels may mark
/// a step as unlabelled (<see cref="SequenceLabels.None"/>): it adds nothing to the loss and gets no gradient.
/// </summary>
internal static class CrossEntropy
{
    /// <summary>The summed (not averaged) loss of the batch, accumulated in double.</summary>
    public static double Forward<T>(
        ReadOnlySpan<T> logits,   // (B, K)
        ReadOnlySpan<int> labels, // (B)
        int batch, int classes, bool allowUnlabelled)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            if (allowUnlabelled && labels[b] == SequenceLabels.None)
                continue;
            ReadOnlySpan<T> row = logits.Slice(b * classes, classes);
            total += double.CreateTruncating(Softmax.LogSumExp(row) - row[CheckedLabel(labels[b], classes)]);
        }
        return total;
    }

    /// <summary>dL/dlogits = (softmax − one-hot) · <paramref name="scale"/>; scale is 1/(whole batch) for a mean loss.</summary>
    public static void Backward<T>(
        Span<T> logitsGrad,       // (B, K), overwritten
        ReadOnlySpan<T> logits,   // (B, K)
        ReadOnlySpan<int> labels, // (B)
        T scale, int batch, int classes, bool allowUnlabelled)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> row = logits.Slice(b * classes, classes);
            Span<T> grad = logitsGrad.Slice(b * classes, classes);
            if (allowUnlabelled && labels[b] == SequenceLabels.None)
            {
                grad.Clear();
                continue;
            }
            T logSum = Softmax.LogSumExp(row);
            for (int k = 0; k < classes; k++)
                grad[k] = T.Exp(row[k] - logSum) * scale;
            grad[CheckedLabel(labels[b], classes)] -= scale;
        }
    }

    private static int CheckedLabel(int label, int classes) =>
        (uint)label < (uint)classes ? label : throw new SmnistException($"label {label} is outside the model's {classes} classes");
}
