using Smnist.Data;

namespace Smnist.Tests.Training;

/// <summary>A small image set whose class is easy to read off the image: a bright band at a row set by the label.</summary>
internal static class SyntheticDigits
{
    public static ImageSet Create(int count, ulong seed)
    {
        var random = DeterministicRandom.For(seed, RandomStreams.Synthetic, 0);
        var images = new byte[count * ImageSet.Pixels];
        var labels = new byte[count];
        for (int k = 0; k < count; k++)
        {
            int label = (int)(random.NextUInt64() % ImageSet.Classes);
            labels[k] = (byte)label;
            Span<byte> image = images.AsSpan(k * ImageSet.Pixels, ImageSet.Pixels);
            for (int p = 0; p < image.Length; p++)
                image[p] = (byte)(random.NextUInt64() % 40);
            int row = 3 + 2 * label;
            image.Slice(row * ImageSet.Width + 4, 20).Fill(255);
        }
        return new ImageSet(images, labels);
    }
}
