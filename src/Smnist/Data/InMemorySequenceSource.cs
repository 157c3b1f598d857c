namespace Smnist.Data;

/// <summary>
/// Sequences held in memory: <c>inputs</c> is (N, T, d) row-major — example n, step t, feature f at
/// (n * T + t) * d + f — and <c>labels</c> (N) classes in 0..classes − 1. The arrays are used, not copied.
/// </summary>
public sealed class InMemorySequenceSource : ISequenceSource
{
    private readonly float[] _inputs;
    private readonly int[] _labels;

    /// <summary>Sequences of <paramref name="steps"/> × <paramref name="features"/> values in <paramref name="inputs"/>, classes in <paramref name="labels"/>.</summary>
    /// <param name="inputs">(N, T, d) values, N = labels.Length.</param>
    /// <param name="labels">(N) classes.</param>
    /// <param name="steps">T, at least 1.</param>
    /// <param name="features">d, at least 1.</param>
    /// <param name="classes">Number of classes, at least 2; every label must be below it.</param>
    /// <exception cref="ArgumentException">The sizes do not agree, or a label or value is out of range.</exception>
    public InMemorySequenceSource(float[] inputs, int[] labels, int steps, int features, int classes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (labels.Length == 0)
            throw new ArgumentException("there are no examples", nameof(labels));
        if ((long)labels.Length * steps * features != inputs.Length)
            throw new ArgumentException($"{inputs.Length} values do not hold {labels.Length} sequences of {steps} × {features}", nameof(inputs));
        for (int n = 0; n < labels.Length; n++)
        {
            if ((uint)labels[n] >= (uint)classes)
                throw new ArgumentException($"label {labels[n]} of example {n} is not a class in 0..{classes - 1}", nameof(labels));
        }
        for (int k = 0; k < inputs.Length; k++)
        {
            if (!float.IsFinite(inputs[k]))
                throw new ArgumentException($"value {k} (example {k / (steps * features)}) is not a finite number", nameof(inputs));
        }
        _inputs = inputs;
        _labels = labels;
        Steps = steps;
        Features = features;
        Classes = classes;
    }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public int Steps { get; }

    /// <inheritdoc/>
    public int Features { get; }

    /// <inheritdoc/>
    public int Classes { get; }

    /// <summary>Example <paramref name="index"/>: (T, d) values, a copy.</summary>
    public float[] Sequence(int index) => _inputs.AsSpan(checked(index * Steps * Features), Steps * Features).ToArray();

    /// <summary>The class of example <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[index];

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int batch = examples.Length, features = Features;
        for (int b = 0; b < batch; b++)
        {
            int example = examples[b];
            labels[b] = _labels[example];
            ReadOnlySpan<float> sequence = _inputs.AsSpan(example * Steps * features, Steps * features); // (T, d)
            for (int t = 0; t < Steps; t++)
                sequence.Slice(t * features, features).CopyTo(inputs.Slice((t * batch + b) * features, features));
        }
    }
}
