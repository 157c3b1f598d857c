namespace Smnist.Data;

/// <summary>
/// Labelled sequences for training and evaluation: <see cref="Count"/> examples, each <see cref="Steps"/> timesteps
/// of <see cref="Features"/> values, each of one class in 0..<see cref="Classes"/> − 1. The loader asks for the
/// examples of a batch by index, in its own (seeded) order, and the source writes them time-major where the
/// training step reads them; so a source may hold everything in memory (<see cref="InMemorySequenceSource"/>,
/// <see cref="MnistSource"/>) or stream it — read it from disk, decode it or generate it — as each batch is asked for.
/// </summary>
/// <remarks>
/// <see cref="Fill"/> is called from the loader's background thread, one call at a time, a few batches ahead of
/// training. It must write the same values for the same (index, epoch, position) whenever it is asked, or runs are
/// neither reproducible nor exactly resumable.
/// </remarks>
public interface ISequenceSource
{
    /// <summary>Examples in the source.</summary>
    int Count { get; }

    /// <summary>Timesteps of the longest example, T_max; every example has 1..Steps (see <see cref="LengthOf"/>).</summary>
    int Steps { get; }

    /// <summary>Values per timestep, d.</summary>
    int Features { get; }

    /// <summary>Number of classes; every label is in 0..Classes − 1.</summary>
    int Classes { get; }

    /// <summary>Length of example <paramref name="example"/>, 1..<see cref="Steps"/>; by default every example has <see cref="Steps"/>.</summary>
    int LengthOf(int example) => Steps;

    /// <summary>
    /// True when the source gives a label per step (sequence labelling) instead of one per sequence; steps without a
    /// label hold <see cref="SequenceLabels.None"/>. By default false.
    /// </summary>
    bool LabelsPerStep => false;

    /// <summary>
    /// Writes the examples <paramref name="examples"/> into <paramref name="inputs"/>, (T, B, d) with
    /// B = examples.Length — element (t, b, f) at (t * B + b) * d + f — and their classes into <paramref name="labels"/>:
    /// (B) one per example, or (T, B) with element (t, b) at t * B + b when <see cref="LabelsPerStep"/>. Steps at or
    /// beyond an example's length are written as 0 in the inputs and <see cref="SequenceLabels.None"/> in per-step labels.
    /// </summary>
    /// <param name="examples">Indices of the batch's examples, in batch order.</param>
    /// <param name="position">Where the batch stands in its epoch; a source that augments draws from it.</param>
    /// <param name="inputs">(T, B, d) floats to overwrite.</param>
    /// <param name="labels">(B) classes, or (T, B) per-step classes, to overwrite.</param>
    void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels);
}

/// <summary>Values shared by the sources that label every step.</summary>
public static class SequenceLabels
{
    /// <summary>The per-step label of a step that has none (padding included); such steps add nothing to the loss.</summary>
    public const int None = -1;
}

/// <summary>A batch's place in training: its <paramref name="Epoch"/> (from 0) and the position in that epoch's order of its first example.</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="FirstExample">Position within the epoch of the batch's first example; row b is at FirstExample + b.</param>
public readonly record struct BatchPosition(int Epoch, int FirstExample);
