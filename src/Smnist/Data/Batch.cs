namespace Smnist.Data;

/// <summary>
/// One batch, time-major and dense: <see cref="Inputs"/> holds (Steps, <see cref="Size"/>, Features) floats,
/// contiguous with stride <see cref="Size"/>, so element (t, b, f) is at (t * Size + b) * Features + f and
/// the first Steps * Size * Features floats are the whole batch, a last partial batch included. Its examples are
/// sorted by descending <see cref="Lengths"/>; steps beyond an example's length are zeros. The arrays are
/// sized for a full batch and reused by the loader: a batch is valid until the consumer asks for the next one.
/// </summary>
internal sealed class Batch
{
    internal Batch(int steps, int features, int capacity, bool labelsPerStep = false)
    {
        Steps = steps;
        Features = features;
        Capacity = capacity;
        LabelsPerStep = labelsPerStep;
        Inputs = new float[Steps * capacity * Features];
        Labels = new int[(labelsPerStep ? steps : 1) * capacity];
        Lengths = new int[capacity];
        Indices = new int[capacity];
    }

    /// <summary>(Steps, Size, Features) floats; entries beyond Steps * Size * Features are stale.</summary>
    public float[] Inputs { get; }

    /// <summary>Class of each row, the first <see cref="Size"/> valid; or with <see cref="LabelsPerStep"/>, (Steps, Size) per-step classes.</summary>
    public int[] Labels { get; }

    /// <summary>Length of each row, 1..Steps, descending; the first <see cref="Size"/> are valid.</summary>
    public int[] Lengths { get; }

    /// <summary>True when <see cref="Labels"/> holds a class per step (<see cref="SequenceLabels.None"/> for none).</summary>
    public bool LabelsPerStep { get; }

    /// <summary>Index in the source of each row, in the batch's (length-sorted) order; the first <see cref="Size"/> are valid.</summary>
    public int[] Indices { get; }

    /// <summary>Rows in this batch: the batch size, or fewer for the last batch of an epoch.</summary>
    public int Size { get; internal set; }

    public int Steps { get; }

    public int Features { get; }

    public int Capacity { get; }

    /// <summary>The valid inputs, (Steps, Size, Features).</summary>
    public Span<float> InputSpan => Inputs.AsSpan(0, Steps * Size * Features);

    public ReadOnlySpan<int> LabelSpan => Labels.AsSpan(0, (LabelsPerStep ? Steps : 1) * Size);

    public ReadOnlySpan<int> LengthSpan => Lengths.AsSpan(0, Size);
}
