namespace Smnist.Data;

/// <summary>
/// An <see cref="ImageSet"/> as sequences: each 28×28 image read in a <see cref="SequenceLayout"/> (rows, pixels or
/// a permutation of them), pixels scaled to [0, 1] as ToTensor does, optionally warped with the seed notebook's
/// augmentation. The warp of the image at position p of epoch e is drawn from (seed, e, p), so it never depends on
/// thread timing and a resumed epoch sees the same images. Images stay bytes until they are written into a batch.
/// </summary>
public sealed class MnistSource : ISequenceSource
{
    private static readonly float[] UnitScale = CreateUnitScale();

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
        if (!layout.ReadsImages)
            throw new SmnistException($"the model reads its own sequences of {layout.Steps} × {layout.Features} values, not images");
        if (!layout.ReadsPixels)
            throw new ArgumentException($"the {layout.Name} view is read by {nameof(ImageSequences)}.{nameof(ImageSequences.Source)}, not pixel by pixel", nameof(layout));
        if (set.Count == 0)
            throw new SmnistException("the image set is empty; there is nothing to batch");
        Set = set;
        Layout = layout;
        _augment = augment;
        _seed = seed;
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
        Pack(images, size, inputs);
    }

    /// <summary>Writes <paramref name="size"/> byte images as (Steps, size, Features) floats in [0, 1].</summary>
    private void Pack(ReadOnlySpan<byte> images, int size, Span<float> inputs)
    {
        int features = Layout.Features;
        ReadOnlySpan<float> unit = UnitScale;
        ReadOnlySpan<int> pixelOrder = Layout.PixelOrder;
        if (features == 1)
        {
            // One pixel per step: gather that pixel from each image into the step's contiguous row of the batch.
            for (int step = 0; step < Layout.Steps; step++)
            {
                int pixel = pixelOrder[step];
                Span<float> stepInputs = inputs.Slice(step * size, size);
                for (int row = 0, offset = pixel; row < stepInputs.Length; row++, offset += ImageSet.Pixels)
                    stepInputs[row] = unit[images[offset]];
            }
            return;
        }
        for (int step = 0; step < Layout.Steps; step++)
        {
            ReadOnlySpan<int> stepPixels = pixelOrder.Slice(step * features, features);
            Span<float> stepInputs = inputs.Slice(step * size * features, size * features);
            for (int row = 0; row < size; row++)
            {
                ReadOnlySpan<byte> image = images.Slice(row * ImageSet.Pixels, ImageSet.Pixels);
                Span<float> destination = stepInputs.Slice(row * features, features);
                for (int f = 0; f < destination.Length; f++)
                    destination[f] = unit[image[stepPixels[f]]];
            }
        }
    }

    private static float[] CreateUnitScale()
    {
        var table = new float[256];
        for (int value = 0; value < table.Length; value++)
            table[value] = value / 255f;
        return table;
    }
}
