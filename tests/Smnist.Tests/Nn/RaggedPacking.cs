using Smnist.Data;

namespace Smnist.Tests.Nn;

/// <summary>
/// Packs a padded time-major batch as the engine reads it (<c>PackedSteps</c>): examples sorted by descending length
/// (stable, as the loader sorts), then step after step the rows of the examples still running.
/// </summary>
internal static class RaggedPacking
{
    /// <summary>Batch order → example: the examples by descending length, ties in their original order.</summary>
    public static int[] Order(int[] lengths) => Enumerable.Range(0, lengths.Length).OrderByDescending(b => lengths[b]).ToArray();

    /// <summary>The lengths in batch order.</summary>
    public static int[] SortedLengths(int[] lengths) => Order(lengths).Select(b => lengths[b]).ToArray();

    /// <summary>(rows, d) the real steps of <paramref name="padded"/> (T, B, d), packed into <paramref name="destination"/>.</summary>
    public static void Inputs<T>(ReadOnlySpan<T> padded, int[] lengths, int features, Span<T> destination)
    {
        int[] order = Order(lengths);
        int batch = lengths.Length, row = 0;
        for (int t = 0; t < lengths.Max(); t++)
        {
            foreach (int example in order)
            {
                if (lengths[example] > t)
                    padded.Slice((t * batch + example) * features, features).CopyTo(destination.Slice(row++ * features, features));
            }
        }
    }

    /// <summary>(rows) the per-step labels of <paramref name="padded"/> (T, B), packed.</summary>
    public static int[] StepLabels(int[] padded, int[] lengths)
    {
        int[] order = Order(lengths);
        var labels = new List<int>();
        for (int t = 0; t < lengths.Max(); t++)
            labels.AddRange(order.Where(example => lengths[example] > t).Select(example => padded[t * lengths.Length + example]));
        return [.. labels];
    }

    /// <summary>Labelled entries: those not <see cref="SequenceLabels.None"/>.</summary>
    public static int Labelled(int[] labels) => labels.Count(label => label != SequenceLabels.None);
}
