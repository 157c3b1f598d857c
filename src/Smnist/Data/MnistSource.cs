namespace Smnist.Data;

/// <summary>
/// An <see cref="ImageSet"/> as sequences: each 28×28 image read in a <see cref="SequenceLayout"/> (rows, pixels or
/// a permutation of them), pixels scaled to [0, 1] as ToTensor does, optionally warped with the notebook's
/// augmentation. The warp of the image at position p of epoch e is drawn from (seed, e, p), so it never depends on
/// thread timing and a resumed epoch sees the same images. Images stay bytes until they are written into a batch.
/// </summary>
public sealed class MnistSource : ISequenceSource
{
    private readonly bool _augment;
    private readonly ulong _seed;
    private byte[] _scratch = [];  // (B, 784) the batch's images, warped; grown once to the batch size

    /// <summary>The images of <paramref name="set"/> in the <paramref name="layout"/> view.</summary>
    /// <param name="set">The images and labels.</param>
    /// <param name="layout">How an image becomes a sequence.</param>
    /// <param name="augment">Warp each image with a random rotation, shift and scale drawn from <paramref name="seed"/>.</param>
    /// <param name="seed">The seed of the augmentation.</param>
    public MnistSource(ImageSet set, SequenceLayout layout, bool augment = false, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(layout);
        layout.RequireImages();
        if (!layout.ReadsPixels)
            throw new ArgumentException($"the {layout.Name} view is read by {nameof(ImageSequences)}.{nameof(ImageSequences.Source)}, not pixel by pixel", nameof(layout));
        if (set.Count == 0)
            throw new SmnistException("the image set is empty; there is nothing to batch");
        Set = set;
        Layout = layout;
        _augment = augment;
        _seed = seed;
    }

    /// <summary>
    /// A run's sources on images, all in the <paramref name="layout"/> view: the first <paramref name="limitTrain"/>
    /// training and <paramref name="limitTest"/> test images (all when null); training images warped when
    /// <paramref name="augment"/> and test images when <paramref name="augmentTest"/>, with draws from
    /// <paramref name="seed"/>. With <paramref name="validation"/>, that many training images drawn by the seed are
    /// held out and read as the test images are.
    /// </summary>
    internal static (ISequenceSource Train, ISequenceSource? Validation, ISequenceSource Test) ForRun(ImageSet train, ImageSet test, SequenceLayout layout,
        int? limitTrain, int? limitTest, bool augment, bool augmentTest, int? validation, ulong seed)
    {
        train = limitTrain is int trainCount ? train.Take(Math.Min(trainCount, train.Count)) : train;
        test = limitTest is int testCount ? test.Take(Math.Min(testCount, test.Count)) : test;
        ISequenceSource trainSource = ImageSequences.Source(train, layout, augment, seed);
        ISequenceSource testSource = ImageSequences.Source(test, layout, augmentTest, seed);
        if (validation is not int held)
            return (trainSource, null, testSource);
        var (rest, heldOut) = SubsetSource.HoldOut(trainSource, ImageSequences.Source(train, layout, augmentTest, seed), held, seed);
        return (rest, heldOut, testSource);
    }

    /// <summary>The images.</summary>
    public ImageSet Set { get; }

    /// <summary>The sequence view.</summary>
    public SequenceLayout Layout { get; }

    /// <inheritdoc/>
    public int Count => Set.Count;

    /// <inheritdoc/>
    public int Steps => Layout.Steps;

    /// <inheritdoc/>
    public int Features => Layout.Features;

    /// <inheritdoc/>
    public int Classes => ImageSet.Classes;

    /// <inheritdoc/>
    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int size = examples.Length;
        if (_scratch.Length < size * ImageSet.Pixels)
            _scratch = new byte[size * ImageSet.Pixels];
        Span<byte> images = _scratch.AsSpan(0, size * ImageSet.Pixels); // (B, 784)
        for (int row = 0; row < size; row++)
        {
            int index = examples[row];
            labels[row] = Set.Labels[index];
            Span<byte> image = images.Slice(row * ImageSet.Pixels, ImageSet.Pixels);
            if (_augment)
                Augmentation.Warp(Set.Image(index), image, Augmentation.Draw(_seed, position.Epoch, position.FirstExample + row));
            else
                Set.Image(index).CopyTo(image);
        }
        Layout.Pack(images, size, inputs);
    }
}
