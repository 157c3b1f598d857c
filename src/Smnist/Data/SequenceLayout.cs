namespace Smnist.Data;

/// <summary>How a 28×28 image is fed to the network over time.</summary>
public enum SequenceView
{
    /// <summary>28 steps of one 28-pixel row each (the notebook's).</summary>
    Rows,

    /// <summary>784 steps of one pixel each, in reading order.</summary>
    Pixels,

    /// <summary>784 steps of one pixel each, in a fixed permutation drawn from a seed.</summary>
    Permuted,

    /// <summary>Not images: a user's own sequences of any length and width (see <see cref="ISequenceSource"/>).</summary>
    Custom,

    /// <summary>The path of a pen tracing the digit: one step per point (see <see cref="Strokes.StrokeEncoding"/>), of varying length.</summary>
    Strokes,
}

/// <summary>
/// A sequence view made concrete (saved with a model, so the file alone says how to feed it): <see cref="Steps"/> × <see cref="Features"/> = 784, and step t, feature f reads
/// image pixel <see cref="PixelAt"/>(t * Features + f). For <see cref="SequenceView.Permuted"/> the
/// <see cref="Permutation"/> is part of the model: save it with the checkpoint and rebuild with
/// <see cref="FromPermutation"/> so evaluation feeds pixels in the same order.
/// </summary>
public sealed class SequenceLayout
{
    /// <summary>Byte value v as a float in [0, 1], v / 255 as ToTensor scales it.</summary>
    private static readonly float[] UnitScale = Enumerable.Range(0, 256).Select(value => value / 255f).ToArray();

    private readonly int[] _pixelOrder;

    private SequenceLayout(SequenceView view, int steps, int features, int[]? permutation, int[]? pixelOrder = null)
    {
        View = view;
        Steps = steps;
        Features = features;
        Permutation = permutation;
        _pixelOrder = pixelOrder ?? permutation ?? Enumerable.Range(0, ImageSet.Pixels).ToArray();
    }

    /// <summary>The view.</summary>
    public SequenceView View { get; }

    /// <summary>Timesteps, T.</summary>
    public int Steps { get; }

    /// <summary>Values per timestep, d.</summary>
    public int Features { get; }

    /// <summary>Whether the view reads 28×28 images (every view but <see cref="SequenceView.Custom"/>).</summary>
    public bool ReadsImages => View != SequenceView.Custom;

    /// <summary>For <see cref="SequenceView.Permuted"/>: step t reads pixel Permutation[t]; null for the other views.</summary>
    public int[]? Permutation { get; }

    /// <summary>The view's name: rows, pixels, permuted, custom or strokes.</summary>
    public string Name => NameOf(View);

    /// <summary>Whether each step reads pixels (<see cref="PixelAt"/>): rows, pixels and permuted; strokes are read as a pen path.</summary>
    public bool ReadsPixels => ReadsImages && View != SequenceView.Strokes;

    /// <summary>The image pixel (row-major index) that feeds sequence element <paramref name="element"/> = t * Features + f.</summary>
    public int PixelAt(int element) => _pixelOrder[element];

    /// <summary>Throws the one-line refusal when this view does not read images (a model of a user's own sequences).</summary>
    public void RequireImages()
    {
        if (!ReadsImages)
            throw new SmnistException($"the model reads its own sequences of {Steps} × {Features} values, not images");
    }

    /// <summary>
    /// Writes <paramref name="size"/> 28×28 byte images (MNIST's convention, row-major, one after the other) as the
    /// (Steps, size, Features) floats in [0, 1] this view feeds the network: the one conversion of images to
    /// sequences, for training batches, predictions and traces alike.
    /// </summary>
    /// <param name="images">(size, 784) bytes.</param>
    /// <param name="size">Images in <paramref name="images"/>, B.</param>
    /// <param name="inputs">(Steps, B, Features) floats to overwrite.</param>
    public void Pack(ReadOnlySpan<byte> images, int size, Span<float> inputs)
    {
        RequireImages();
        if (!ReadsPixels)
            throw new ArgumentException($"the {Name} view reads pen paths (Smnist.Data.Strokes), not pixels");
        if (images.Length != size * ImageSet.Pixels)
            throw new ArgumentException($"{size} image(s) have {size * ImageSet.Pixels} pixels, not {images.Length}", nameof(images));
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs.Length, size * ImageSet.Pixels, nameof(inputs));
        ReadOnlySpan<float> unit = UnitScale;
        if (Features == 1)
        {
            // One pixel per step: gather that pixel from each image into the step's contiguous row of the batch.
            for (int step = 0; step < Steps; step++)
            {
                int pixel = _pixelOrder[step];
                Span<float> stepInputs = inputs.Slice(step * size, size);
                for (int row = 0, offset = pixel; row < stepInputs.Length; row++, offset += ImageSet.Pixels)
                    stepInputs[row] = unit[images[offset]];
            }
            return;
        }
        for (int step = 0; step < Steps; step++)
        {
            ReadOnlySpan<int> stepPixels = _pixelOrder.AsSpan(step * Features, Features);
            Span<float> stepInputs = inputs.Slice(step * size * Features, size * Features);
            for (int row = 0; row < size; row++)
            {
                ReadOnlySpan<byte> image = images.Slice(row * ImageSet.Pixels, ImageSet.Pixels);
                Span<float> destination = stepInputs.Slice(row * Features, Features);
                for (int f = 0; f < destination.Length; f++)
                    destination[f] = unit[image[stepPixels[f]]];
            }
        }
    }

    /// <summary>The <paramref name="view"/> of 28×28 images; the permuted one draws its permutation from <paramref name="permutationSeed"/>.</summary>
    public static SequenceLayout Create(SequenceView view, int permutationSeed = 0) => view switch
    {
        SequenceView.Rows => new SequenceLayout(view, ImageSet.Height, ImageSet.Width, null),
        SequenceView.Pixels => new SequenceLayout(view, ImageSet.Pixels, 1, null),
        SequenceView.Permuted => new SequenceLayout(view, ImageSet.Pixels, 1, DrawPermutation(permutationSeed)),
        SequenceView.Strokes => new SequenceLayout(view, Strokes.StrokeEncoding.MaxSteps, Strokes.StrokeEncoding.Features, null, []),
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "not a view of images"),
    };

    /// <summary>A user's own sequences of <paramref name="steps"/> × <paramref name="features"/> values.</summary>
    public static SequenceLayout Custom(int steps, int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        return new SequenceLayout(SequenceView.Custom, steps, features, null, []);
    }

    /// <summary>Rebuilds the permuted view from a saved permutation, checking it is one of 0..783.</summary>
    public static SequenceLayout FromPermutation(int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        if (permutation.Length != ImageSet.Pixels)
            throw new SmnistException($"pixel permutation has {permutation.Length} entries, expected {ImageSet.Pixels}");
        Span<bool> seen = stackalloc bool[ImageSet.Pixels];
        foreach (int pixel in permutation)
        {
            if ((uint)pixel >= ImageSet.Pixels || seen[pixel])
                throw new SmnistException($"pixel permutation is not a permutation of 0..{ImageSet.Pixels - 1} (entry {pixel})");
            seen[pixel] = true;
        }
        return new SequenceLayout(SequenceView.Permuted, ImageSet.Pixels, 1, (int[])permutation.Clone());
    }

    /// <summary>The name of <paramref name="view"/>, as command lines and checkpoints spell it.</summary>
    public static string NameOf(SequenceView view) => view switch
    {
        SequenceView.Rows => "rows",
        SequenceView.Pixels => "pixels",
        SequenceView.Permuted => "permuted",
        SequenceView.Custom => "custom",
        SequenceView.Strokes => "strokes",
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "unknown sequence view"),
    };

    /// <summary>Parses "rows", "pixels", "permuted", "custom" or "strokes" (case-insensitive).</summary>
    public static SequenceView Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "rows" => SequenceView.Rows,
        "pixels" => SequenceView.Pixels,
        "permuted" => SequenceView.Permuted,
        "custom" => SequenceView.Custom,
        "strokes" => SequenceView.Strokes,
        _ => throw new SmnistException($"unknown sequence view '{name}'; expected rows, pixels, permuted or strokes"),
    };

    private static int[] DrawPermutation(int seed)
    {
        int[] permutation = Enumerable.Range(0, ImageSet.Pixels).ToArray();
        DeterministicRandom.For((ulong)(uint)seed, RandomStreams.Permutation, 0).Shuffle(permutation);
        return permutation;
    }
}
