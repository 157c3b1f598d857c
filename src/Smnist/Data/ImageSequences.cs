using Smnist.Data.Strokes;

namespace Smnist.Data;

/// <summary>Images as the sequences of a view: pixels for rows, pixels and permuted (<see cref="MnistSource"/>), pen paths for strokes (<see cref="StrokeSource"/>).</summary>
public static class ImageSequences
{
    /// <summary>Sets of at least this many images have their pen traces cached (<see cref="StrokeSet.DefaultCacheDirectory"/>); smaller ones trace in a moment.</summary>
    public const int StrokeCacheMinimum = 10_000;

    /// <summary>The images of <paramref name="set"/> in the <paramref name="layout"/> view, augmented when <paramref name="augment"/> with draws from <paramref name="seed"/>.</summary>
    public static ISequenceSource Source(ImageSet set, SequenceLayout layout, bool augment = false, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(layout);
        return layout.View == SequenceView.Strokes
            ? new StrokeSource(set, augment, seed, set.Count >= StrokeCacheMinimum ? StrokeSet.DefaultCacheDirectory : null)
            : new MnistSource(set, layout, augment, seed);
    }
}
