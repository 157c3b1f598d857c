namespace Smnist.Data;

/// <summary>
/// Some examples of another source, in the order given: example k here is example <c>examples[k]</c> there. How a
/// run holds training examples out for validation (<see cref="HoldOut"/>).
/// </summary>
internal sealed class SubsetSource : ISequenceSource
{
    private readonly ISequenceSource _inner;
    private readonly int[] _examples;
    private int[] _mapped = []; // (B) the batch's indices in the inner source; grown once to the batch size

    private SubsetSource(ISequenceSource inner, int[] examples)
    {
        _inner = inner;
        _examples = examples;
    }

    /// <inheritdoc/>
    public int Count => _examples.Length;

    /// <inheritdoc/>
    public int Steps => _inner.Steps;

    /// <inheritdoc/>
    public int Features => _inner.Features;

    /// <inheritdoc/>
    public int Classes => _inner.Classes;

    /// <inheritdoc/>
    public int LengthOf(int example) => _inner.LengthOf(_examples[example]);

    /// <inheritdoc/>
    public bool LabelsPerStep => _inner.LabelsPerStep;

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        if (_mapped.Length < examples.Length)
            _mapped = new int[examples.Length];
        Span<int> mapped = _mapped.AsSpan(0, examples.Length);
        for (int b = 0; b < examples.Length; b++)
            mapped[b] = _examples[examples[b]];
        _inner.Fill(mapped, position, inputs, labels);
    }

    /// <summary>
    /// Splits <paramref name="train"/>'s examples: <paramref name="count"/> drawn from <paramref name="seed"/> are
    /// held out, read through <paramref name="heldView"/> (the same examples, without augmentation), and the rest,
    /// in their order, are left to train on.
    /// </summary>
    public static (SubsetSource Train, SubsetSource Held) HoldOut(ISequenceSource train, ISequenceSource heldView, int count, ulong seed)
    {
        if (count >= train.Count)
            throw new SmnistException($"--validation {count} would hold out every one of the {train.Count} training examples; at least one must be left to train on");
        int[] order = Enumerable.Range(0, train.Count).ToArray();
        DeterministicRandom.For(seed, RandomStreams.Validation, 0).Shuffle(order);
        int[] held = order[..count];
        int[] rest = order[count..];
        Array.Sort(held);
        Array.Sort(rest);
        return (new SubsetSource(train, rest), new SubsetSource(heldView, held));
    }
}
