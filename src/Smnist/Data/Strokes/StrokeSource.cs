namespace Smnist.Data.Strokes;

/// <summary>
/// An <see cref="ImageSet"/> as pen paths (<see cref="SequenceView.Strokes"/>): each image's <see cref="PenTrace"/>
/// encoded by <see cref="StrokeEncoding"/>, one step per point, so examples differ in length (<see cref="LengthOf"/>).
/// With augmentation, the points of example i in epoch e are warped and reordered by draws from (seed, e, i) alone
/// (<see cref="StrokeAugmentation"/>), so a run is reproducible however its batches are formed.
/// </summary>
public sealed class StrokeSource : ISequenceSource
{
    private readonly ImageSet _set;
    private readonly StrokeSet _traces;
    private readonly bool _augment;
    private readonly ulong _seed;
    private readonly float[] _steps = new float[StrokeEncoding.MaxSteps * StrokeEncoding.Features]; // (T, d) one example's steps
    private readonly StrokeAugmentation _augmentation = new();

    /// <summary>The images of <paramref name="set"/> as pen paths, traced or read from <paramref name="cacheDirectory"/> (see <see cref="StrokeSet.Trace"/>).</summary>
    /// <param name="set">The images and labels.</param>
    /// <param name="augment">Warp, reorder and reverse strokes at random, drawn from <paramref name="seed"/>.</param>
    /// <param name="seed">The seed of the augmentation.</param>
    /// <param name="cacheDirectory">Where traces are cached, or null to trace without a cache.</param>
    public StrokeSource(ImageSet set, bool augment = false, ulong seed = 1, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.Count == 0)
            throw new SmnistException("the image set is empty; there is nothing to batch");
        _set = set;
        _traces = StrokeSet.Trace(set, cacheDirectory);
        _augment = augment;
        _seed = seed;
    }

    /// <summary>The traces, one per image.</summary>
    public StrokeSet Traces => _traces;

    /// <inheritdoc/>
    public int Count => _set.Count;

    /// <inheritdoc/>
    public int Steps => StrokeEncoding.MaxSteps;

    /// <inheritdoc/>
    public int Features => StrokeEncoding.Features;

    /// <inheritdoc/>
    public int Classes => ImageSet.Classes;

    /// <inheritdoc/>
    public int LengthOf(int example) => StrokeEncoding.StepsOf(_traces[example]);

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int size = examples.Length, features = Features;
        inputs[..(Steps * size * features)].Clear();
        for (int row = 0; row < size; row++)
        {
            int index = examples[row];
            labels[row] = _set.Labels[index];
            PenTrace trace = _traces[index];
            if (_augment)
                _augmentation.Encode(trace, _seed, position.Epoch, index, _steps);
            else
                StrokeEncoding.Encode(trace, _steps);
            int length = StrokeEncoding.StepsOf(trace);
            for (int t = 0; t < length; t++)
                _steps.AsSpan(t * features, features).CopyTo(inputs.Slice((t * size + row) * features, features));
        }
    }
}
