namespace Smnist.Data;

/// <summary>How a 28×28 image is fed to the network over time.</summary>
public enum SequenceView
{
    /// <summary>28 steps of one 28-pixel row each (the seed's).</summary>
    Rows,

    /// <summary>784 steps of one pixel each, in reading order.</summary>
    Pixels,

    /// <summary>784 steps of one pixel each, in a fixed permutation drawn from a seed.</summary>
    Permuted,
}

/// <summary>
/// A sequence view made concrete: <see cref="Steps"/> × <see cref="Features"/> = 784, and step t, feature f reads
/// image pixel <see cref="PixelAt"/>(t * Features + f). For <see cref="SequenceView.Permuted"/> the
/// <see cref="Permutation"/> is part of the model: save it with the checkpoint and rebuild with
/// <see cref="FromPermutation"/> so evaluation feeds pixels in the same order.
/// </summary>
public sealed class SequenceLayout
{
    private readonly int[] _pixelOrder;

    private SequenceLayout(SequenceView view, int steps, int features, int[]? permutation)
    {
        View = view;
        Steps = steps;
        Features = features;
        Permutation = permutation;
        _pixelOrder = permutation ?? Enumerable.Range(0, ImageSet.Pixels).ToArray();
    }

    public SequenceView View { get; }

    public int Steps { get; }

    public int Features { get; }

    /// <summary>For <see cref="SequenceView.Permuted"/>: step t reads pixel Permutation[t]; null for the other views.</summary>
    public int[]? Permutation { get; }

    public string Name => NameOf(View);

    /// <summary>The image pixel (row-major index) that feeds sequence element <paramref name="element"/> = t * Features + f.</summary>
    public int PixelAt(int element) => _pixelOrder[element];

    /// <summary>Pixel order for all 784 sequence elements (identity except for the permuted view).</summary>
    internal ReadOnlySpan<int> PixelOrder => _pixelOrder;

    public static SequenceLayout Create(SequenceView view, int permutationSeed = 0) => view switch
    {
        SequenceView.Rows => new SequenceLayout(view, ImageSet.Height, ImageSet.Width, null),
        SequenceView.Pixels => new SequenceLayout(view, ImageSet.Pixels, 1, null),
        SequenceView.Permuted => new SequenceLayout(view, ImageSet.Pixels, 1, DrawPermutation(permutationSeed)),
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Unknown sequence view."),
    };

    /// <summary>Rebuilds the permuted view from a saved permutation, checking it is one of 0..783.</summary>
    public static SequenceLayout FromPermutation(int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        if (permutation.Length != ImageSet.Pixels)
        {
            throw new SmnistException($"pixel permutation has {permutation.Length} entries, expected {ImageSet.Pixels}.");
        }
        Span<bool> seen = stackalloc bool[ImageSet.Pixels];
        foreach (int pixel in permutation)
        {
            if ((uint)pixel >= ImageSet.Pixels || seen[pixel])
            {
                throw new SmnistException($"pixel permutation is not a permutation of 0..{ImageSet.Pixels - 1} (entry {pixel}).");
            }
            seen[pixel] = true;
        }
        return new SequenceLayout(SequenceView.Permuted, ImageSet.Pixels, 1, (int[])permutation.Clone());
    }

    public static string NameOf(SequenceView view) => view switch
    {
        SequenceView.Rows => "rows",
        SequenceView.Pixels => "pixels",
        SequenceView.Permuted => "permuted",
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Unknown sequence view."),
    };

    /// <summary>Parses "rows", "pixels" or "permuted" (case-insensitive).</summary>
    public static SequenceView Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "rows" => SequenceView.Rows,
        "pixels" => SequenceView.Pixels,
        "permuted" => SequenceView.Permuted,
        _ => throw new SmnistException($"unknown sequence view '{name}'; expected rows, pixels or permuted."),
    };

    private static int[] DrawPermutation(int seed)
    {
        int[] permutation = Enumerable.Range(0, ImageSet.Pixels).ToArray();
        DeterministicRandom.For((ulong)(uint)seed, RandomStreams.Permutation, 0).Shuffle(permutation);
        return permutation;
    }
}
