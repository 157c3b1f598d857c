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

    /// <summary>Timesteps per example, T.</summary>
    int Steps { get; }

    /// <summary>Values per timestep, d.</summary>
    int Features { get; }

    /// <summary>Number of classes; every label is in 0..Classes − 1.</summary>
    int Classes { get; }

    /// <summary>
    /// Writes the examples <paramref name="examples"/> into <paramref name="inputs"/>, (T, B, d) with
    /// B = examples.Length — element (t, b, f) at (t * B + b) * d + f — and their classes into <paramref name="labels"/> (B).
    /// </summary>
    /// <param name="examples">Indices of the batch's examples, in batch order.</param>
    /// <param name="position">Where the batch stands in its epoch; a source that augments draws from it.</param>
    /// <param name="inputs">(T, B, d) floats to overwrite.</param>
    /// <param name="labels">(B) classes to overwrite.</param>
    void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels);
}

/// <summary>A batch's place in training: its <paramref name="Epoch"/> (from 0) and the position in that epoch's order of its first example.</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="FirstExample">Position within the epoch of the batch's first example; row b is at FirstExample + b.</param>
public readonly record struct BatchPosition(int Epoch, int FirstExample);
