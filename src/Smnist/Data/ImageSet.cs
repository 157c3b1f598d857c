namespace Smnist.Data;

/// <summary>
/// Images and labels kept as bytes, as the IDX files store them: <see cref="Images"/> is (Count, 28, 28) row-major,
/// one byte per pixel (0 = background, 255 = ink); <see cref="Labels"/> holds one class 0..9 per image.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Image height in pixels.</summary>
    public const int Height = 28;
    /// <summary>Image width in pixels.</summary>
    public const int Width = 28;
    /// <summary>Pixels per image.</summary>
    public const int Pixels = Height * Width;
    /// <summary>Classes in an MNIST-style set.</summary>
    public const int Classes = 10;

    /// <summary>Images (Count, 28, 28) and their labels, used as given.</summary>
    public ImageSet(byte[] images, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if ((long)labels.Length * Pixels != images.Length)
            throw new ArgumentException($"{images.Length} image bytes do not hold {labels.Length} images of {Pixels} pixels");
        Images = images;
        Labels = labels;
    }

    /// <summary>(Count, 28, 28) pixels, one byte each.</summary>
    public byte[] Images { get; }

    /// <summary>The class of each image.</summary>
    public byte[] Labels { get; }

    /// <summary>Images in the set.</summary>
    public int Count => Labels.Length;

    /// <summary>The pixels of image <paramref name="index"/>, row-major.</summary>
    public ReadOnlySpan<byte> Image(int index) => Images.AsSpan(checked(index * Pixels), Pixels);

    /// <summary>The first <paramref name="count"/> images (all of them when the set is smaller); a copy unless it is the whole set.</summary>
    public ImageSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
            return this;
        return new ImageSet(Images.AsSpan(0, count * Pixels).ToArray(), Labels.AsSpan(0, count).ToArray());
    }
}
