using System.IO.Compression;
using Smnist.Imaging;

namespace Smnist.Tests.Imaging;

[Trait("Category", "unit")]
public sealed class DigitImageTests
{
    /// <summary>A thick "7" in dark ink on a light RGB background, off-centre in a wide image.</summary>
    private static byte[] DarkSevenOnLight(int width, int height, int channels, byte ink = 20, byte paper = 235)
    {
        var pixels = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bool bar = y is >= 10 and < 18 && x is >= 60 and < 100;
                bool stem = y is >= 10 and < 70 && Math.Abs(x - (100 - (y - 10) * 0.5)) < 4;
                byte value = bar || stem ? ink : paper;
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = c == 3 ? (byte)255 : value;
            }
        }
        return pixels;
    }

    [Fact]
    public void DarkOnLightBecomesWhiteOnBlackFittedAndCentred()
    {
        byte[] field = DigitImage.ToMnist(DarkSevenOnLight(160, 90, 3), 160, 90, 3);

        Assert.Equal(784, field.Length);
        Assert.Equal(255, field.Max());
        for (int i = 0; i < 28; i++)
        {
            Assert.Equal(0, field[i]);                  // top row
            Assert.Equal(0, field[27 * 28 + i]);        // bottom row
            Assert.Equal(0, field[i * 28]);             // left column
            Assert.Equal(0, field[i * 28 + 27]);        // right column
        }

        var (rows, columns) = InkExtent(field);
        Assert.Equal(20, Math.Max(rows, columns));
        var (centreX, centreY) = CentreOfMass(field);
        Assert.InRange(centreX, 13.5, 14.5);
        Assert.InRange(centreY, 13.5, 14.5);
    }

    [Fact]
    public void PolarityColourAndAlphaDoNotChangeTheResult()
    {
        byte[] reference = DigitImage.ToMnist(DarkSevenOnLight(160, 90, 1, ink: 0, paper: 255), 160, 90, 1);

        byte[] lightOnDark = DarkSevenOnLight(160, 90, 1, ink: 255, paper: 0);
        Assert.Equal(reference, DigitImage.ToMnist(lightOnDark, 160, 90, 1));

        byte[] rgb = DarkSevenOnLight(160, 90, 3, ink: 0, paper: 255);
        Assert.Equal(reference, DigitImage.ToMnist(rgb, 160, 90, 3));

        // Black strokes on a transparent canvas, as drawing programs export them.
        byte[] rgba = DarkSevenOnLight(160, 90, 4, ink: 0, paper: 255);
        for (int i = 0; i < 160 * 90; i++)
        {
            if (rgba[i * 4] == 255)
                rgba[i * 4 + 3] = 0;
        }
        Assert.Equal(reference, DigitImage.ToMnist(rgba, 160, 90, 4));
    }

    [Fact]
    public void TinyImagesAreScaledUp()
    {
        var pixels = new byte[5 * 5];
        pixels[1 * 5 + 2] = pixels[2 * 5 + 2] = pixels[3 * 5 + 2] = 255; // a vertical "1", 3 pixels tall
        byte[] field = DigitImage.ToMnist(pixels, 5, 5, 1);
        var (rows, columns) = InkExtent(field);
        Assert.Equal(20, rows);
        Assert.InRange(columns, 6, 8);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(28, 28)]
    [InlineData(280, 280)]
    [InlineData(41, 997)]
    public void TheBorderMedianIsTheMiddleOfTheSortedBorder(int width, int height)
    {
        var random = new Random(width * 1000 + height);
        // Few distinct values, so the selection meets many ties.
        float[] grey = Enumerable.Range(0, width * height).Select(_ => random.Next(8) / 7f).ToArray();
        int band = Math.Max(1, Math.Min(width, height) / 20);
        var border = new List<float>();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (x < band || y < band || x >= width - band || y >= height - band)
                    border.Add(grey[y * width + x]);
            }
        }
        border.Sort();
        Assert.Equal(border[border.Count / 2], DigitImage.BorderMedian(grey, width, height));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(61)]
    [InlineData(280 * 280)]
    public void OpaqueRgbaGivesTheLuminanceOfThePixelByPixelFormula(int count)
    {
        var random = new Random(count);
        var pixels = new byte[count * 4];
        random.NextBytes(pixels);
        for (int i = 3; i < pixels.Length; i += 4)
            pixels[i] = 255;
        var colour = new float[count];

        DigitImage.ToGrey(pixels, 4, colour);

        for (int i = 0; i < count; i++)
        {
            float expected = (0.299f * pixels[4 * i] + 0.587f * pixels[4 * i + 1] + 0.114f * pixels[4 * i + 2]) / 255f;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(colour[i]));
        }
    }

    [Theory]
    [InlineData(9, 7, 0.2f)]
    [InlineData(9, 7, 0.9f)]
    [InlineData(280, 4, 0.2f)]
    [InlineData(280, 4, 0.9f)]
    public void InkIsTheGreyLessTheBorderStretchedToFullInk(int width, int height, float paper)
    {
        var random = new Random(width + height);
        float[] grey = Enumerable.Range(0, width * height).Select(_ => random.NextSingle()).ToArray();
        for (int x = 0; x < width; x++)
            grey[x] = paper;  // the top row: enough of the border's ring to put its median on the paper's side of 0.5
        float background = DigitImage.BorderMedian(grey, width, height);
        Assert.Equal(paper > 0.5f, background > 0.5f);
        float[] expected = grey.Select(g => Math.Max(0, background > 0.5f ? background - g : g - background)).ToArray();
        float strongest = expected.Max();
        for (int i = 0; i < expected.Length; i++)
            expected[i] /= strongest;

        DigitImage.ToInk(grey, width, height);

        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), grey.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void FlatImageIsAUserError()
    {
        var error = Assert.Throws<SmnistException>(() => DigitImage.ToMnist(Enumerable.Repeat((byte)200, 30 * 30).ToArray(), 30, 30, 1));
        Assert.Contains("no digit found", error.Message);
    }

    [Fact]
    public void MnistDigitsDrawnLargerAndInvertedComeBackCloseToTheOriginal()
    {
        byte[] images = ReadGzip(Path.Combine(AppContext.BaseDirectory, "Fixtures", "mnist", "t10k-images-idx3-ubyte.gz"))[16..];
        for (int n = 0; n < 20; n++)
        {
            byte[] original = images.AsSpan(n * 784, 784).ToArray();

            // Dark on light, three times larger, off-centre in a 120×100 canvas.
            const int width = 120, height = 100;
            var canvas = Enumerable.Repeat((byte)255, width * height).ToArray();
            for (int y = 0; y < 84; y++)
            {
                for (int x = 0; x < 84; x++)
                    canvas[(y + 5) * width + x + 30] = (byte)(255 - original[y / 3 * 28 + x / 3]);
            }

            // MNIST's own centring is off by up to a pixel or so from the exact centre of mass, which ours hits:
            // compare shapes at the best small shift, and check the centring separately.
            byte[] restored = DigitImage.ToMnist(canvas, width, height, 1);
            double best = BestShiftedCorrelation(original, restored);
            Assert.True(best > 0.9, $"test image {n}: correlation {best:F3}");
            var (centreX, centreY) = CentreOfMass(restored);
            Assert.InRange(centreX, 13.5, 14.5);
            Assert.InRange(centreY, 13.5, 14.5);
        }
    }

    private static (int Rows, int Columns) InkExtent(byte[] field)
    {
        int top = 28, bottom = -1, left = 28, right = -1;
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                if (field[y * 28 + x] == 0)
                    continue;
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
                left = Math.Min(left, x);
                right = Math.Max(right, x);
            }
        }
        return (bottom - top + 1, right - left + 1);
    }

    private static (double X, double Y) CentreOfMass(byte[] field)
    {
        double mass = 0, x = 0, y = 0;
        for (int i = 0; i < field.Length; i++)
        {
            mass += field[i];
            x += field[i] * (i % 28 + 0.5);
            y += field[i] * (i / 28 + 0.5);
        }
        return (x / mass, y / mass);
    }

    private static double BestShiftedCorrelation(byte[] a, byte[] b)
    {
        double best = -1;
        for (int dy = -2; dy <= 2; dy++)
        {
            for (int dx = -2; dx <= 2; dx++)
            {
                var shifted = new byte[784];
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 28; x++)
                    {
                        int sy = y - dy, sx = x - dx;
                        if (sy is >= 0 and < 28 && sx is >= 0 and < 28)
                            shifted[y * 28 + x] = b[sy * 28 + sx];
                    }
                }
                best = Math.Max(best, Correlation(a, shifted));
            }
        }
        return best;
    }

    private static double Correlation(byte[] a, byte[] b)
    {
        double meanA = a.Average(v => (double)v), meanB = b.Average(v => (double)v);
        double cov = 0, varA = 0, varB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            cov += (a[i] - meanA) * (b[i] - meanB);
            varA += (a[i] - meanA) * (a[i] - meanA);
            varB += (b[i] - meanB) * (b[i] - meanB);
        }
        return cov / Math.Sqrt(varA * varB);
    }

    private static byte[] ReadGzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
