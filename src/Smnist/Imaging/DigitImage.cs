using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Smnist.Imaging;

/// <summary>
/// Brings a photo or drawing of one digit to MNIST's convention: 28×28 bytes, white digit on black, the digit's
/// bounding box scaled (aspect ratio kept, area-averaged) to fit 20×20, then placed so that its centre of mass
/// lies at the centre of the field — the procedure LeCun et al. describe for MNIST. Pixels come in decoded
/// (the library has no image-format dependency): interleaved rows of grey, grey+alpha, RGB or RGBA bytes.
/// </summary>
public static class DigitImage
{
    /// <summary>Side of the MNIST image.</summary>
    public const int Size = 28;
    /// <summary>Side of the box the digit is fitted into, as MNIST's preparation did.</summary>
    public const int BoxSize = 20;

    /// <summary>Pixels darker than this share of the ink range (after removing the background) are not ink.</summary>
    private const float InkThreshold = 0.1f;

    /// <summary>
    /// Working planes of images up to a megapixel (4 MB), kept for the next image: a few per size. A larger image's
    /// plane is allocated and then dropped, so a server that once read a large photo does not go on holding it.
    /// </summary>
    private static readonly ArrayPool<float> Planes = ArrayPool<float>.Create(maxArrayLength: 1 << 20, maxArraysPerBucket: 4);

    /// <summary>Returns the 784 MNIST-convention bytes (row-major, 0 = black background, 255 = full ink).</summary>
    public static byte[] ToMnist(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (width < 1 || height < 1)
            throw new SmnistException($"image is {width}×{height} pixels; it must have at least one pixel");
        if (channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"expected {(long)width * height * channels} bytes for {width}×{height}×{channels}, got {pixels.Length}", nameof(pixels));

        // One plane of a 280×280 drawing is 313 KB: rented, so that reading image after image (smnist serve) does not
        // fill the large-object heap, whose collections cost more than the reading itself.
        float[] plane = Planes.Rent(width * height);
        try
        {
            Span<float> ink = plane.AsSpan(0, width * height);
            ToGrey(pixels, channels, ink);
            ToInk(ink, width, height);
            (int left, int top, int right, int bottom) = InkBounds(ink, width, height)
                ?? throw new SmnistException("no digit found: the image is a single flat colour");

            float[] box = FitIntoBox(ink, width, left, top, right - left, bottom - top, out int boxWidth, out int boxHeight);
            return CentreByMass(box, boxWidth, boxHeight);
        }
        finally
        {
            Planes.Return(plane);
        }
    }

    /// <summary>
    /// Luminance in [0, 1] of each of the <paramref name="colour"/>.Length pixels. Transparent areas become the
    /// background that contrasts with the opaque strokes.
    /// </summary>
    internal static void ToGrey(ReadOnlySpan<byte> pixels, int channels, Span<float> colour)
    {
        if (channels == 4 && OpaqueRgbaToGrey(pixels, colour))
            return;
        int count = colour.Length;
        bool hasAlpha = channels is 2 or 4;
        double opaqueSum = 0, opaqueWeight = 0;
        bool opaque = true;
        for (int i = 0, at = 0; i < count; i++, at += channels)
        {
            colour[i] = channels >= 3
                ? Luminance(pixels[at], pixels[at + 1], pixels[at + 2])
                : pixels[at] / 255f;
            if (!hasAlpha)
                continue;
            float alpha = pixels[at + channels - 1] / 255f;
            opaque &= alpha == 1f;
            opaqueSum += colour[i] * alpha;
            opaqueWeight += alpha;
        }
        if (opaque)
            return;

        // A digit drawn on a transparent canvas: dark strokes are meant to be seen on light, and light strokes on dark.
        float background = opaqueWeight > 0 && opaqueSum / opaqueWeight < 0.5 ? 1f : 0f;
        for (int i = 0, at = channels - 1; i < count; i++, at += channels)
        {
            float alpha = pixels[at] / 255f;
            colour[i] = alpha * colour[i] + (1 - alpha) * background;
        }
    }

    /// <summary>The luma weights of ITU-R BT.601.</summary>
    private const float RedWeight = 0.299f, GreenWeight = 0.587f, BlueWeight = 0.114f;

    /// <summary>Luminance in [0, 1] of one RGB pixel; <see cref="OpaqueRgbaToGrey"/>'s vectors do the same operations in the same order.</summary>
    private static float Luminance(byte r, byte g, byte b) => (RedWeight * r + GreenWeight * g + BlueWeight * b) / 255f;

    /// <summary>
    /// <see cref="ToGrey"/> for RGBA pixels that are all opaque, what every decoded PNG or JPEG without transparency
    /// is: eight pixels at a time, with the same operations in the same order, so the same values. Returns false,
    /// leaving <paramref name="colour"/> unfinished, at the first pixel that is not opaque.
    /// </summary>
    private static bool OpaqueRgbaToGrey(ReadOnlySpan<byte> pixels, Span<float> colour)
    {
        ReadOnlySpan<uint> rgba = MemoryMarshal.Cast<byte, uint>(pixels);  // R | G << 8 | B << 16 | A << 24
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> low = Vector256.Create(0xFFu), opaque = Vector256.Create(0xFFu << 24);
            for (; i <= colour.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<uint> packed = Vector256.Create(rgba.Slice(i, Vector256<float>.Count));
                if ((packed & opaque) != opaque)
                    return false;
                Vector256<float> r = Vector256.ConvertToSingle((packed & low).AsInt32());
                Vector256<float> g = Vector256.ConvertToSingle(((packed >>> 8) & low).AsInt32());
                Vector256<float> b = Vector256.ConvertToSingle(((packed >>> 16) & low).AsInt32());
                ((RedWeight * r + GreenWeight * g + BlueWeight * b) / 255f).CopyTo(colour.Slice(i));
            }
        }
        for (int at = 4 * i; i < colour.Length; i++, at += 4)
        {
            if (pixels[at + 3] != 255)
                return false;
            colour[i] = Luminance(pixels[at], pixels[at + 1], pixels[at + 2]);
        }
        return true;
    }

    /// <summary>
    /// Turns <paramref name="grey"/> into ink intensity in [0, 1], in place: inverted when the border (the image's
    /// background) is light, then with the border level subtracted and the contrast stretched so the strongest stroke
    /// is full ink, as in MNIST.
    /// </summary>
    internal static void ToInk(Span<float> grey, int width, int height)
    {
        float background = BorderMedian(grey, width, height);
        if (background > 0.5f)
            TensorPrimitives.Subtract(background, grey, grey);
        else
            TensorPrimitives.Subtract(grey, background, grey);
        TensorPrimitives.Max(grey, 0f, grey);
        float strongest = TensorPrimitives.Max<float>(grey);
        if (strongest <= 1f / 255)
            grey.Clear();
        else
            TensorPrimitives.Divide(grey, strongest, grey);
    }

    /// <summary>Median of the outermost ring of pixels (a band a few percent wide): the paper or screen behind the digit.</summary>
    internal static float BorderMedian(ReadOnlySpan<float> grey, int width, int height)
    {
        int band = Math.Max(1, Math.Min(width, height) / 20);
        int inner = Math.Max(0, width - 2 * band) * Math.Max(0, height - 2 * band);
        float[] rented = Planes.Rent(width * height - inner);
        try
        {
            Span<float> border = rented.AsSpan(0, width * height - inner);
            int count = 0;
            for (int y = 0; y < height; y++)
            {
                bool wholeRow = y < band || y >= height - band;
                for (int x = 0; x < width; x++)
                {
                    if (wholeRow || x < band || x >= width - band)
                        border[count++] = grey[y * width + x];
                }
            }
            return Select(border, count / 2);
        }
        finally
        {
            Planes.Return(rented);
        }
    }

    /// <summary>The value that would stand at <paramref name="k"/> if <paramref name="values"/> were sorted (Hoare's selection, in place).</summary>
    private static float Select(Span<float> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (left < right)
        {
            float pivot = values[(left + right) >>> 1];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot)
                    i++;
                while (values[j] > pivot)
                    j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j)
                right = j;
            else if (k >= i)
                left = i;
            else
                return values[k];
        }
        return values[k];
    }

    /// <summary>The smallest rectangle [left, right) × [top, bottom) holding every ink pixel, or null if there is none.</summary>
    internal static (int Left, int Top, int Right, int Bottom)? InkBounds(ReadOnlySpan<float> ink, int width, int height)
    {
        int left = width, top = height, right = -1, bottom = -1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (ink[y * width + x] <= InkThreshold)
                    continue;
                left = Math.Min(left, x);
                right = Math.Max(right, x);
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
            }
        }
        return right < 0 ? null : (left, top, right + 1, bottom + 1);
    }

    /// <summary>
    /// Resamples the crop so its longer side is <see cref="BoxSize"/> pixels, by area averaging: each output
    /// pixel is the mean of the source area it covers, counting partly covered source pixels by their overlap.
    /// </summary>
    internal static float[] FitIntoBox(ReadOnlySpan<float> ink, int stride, int left, int top, int cropWidth, int cropHeight, out int boxWidth, out int boxHeight)
    {
        double scale = (double)BoxSize / Math.Max(cropWidth, cropHeight);
        boxWidth = Math.Clamp((int)Math.Round(cropWidth * scale), 1, BoxSize);
        boxHeight = Math.Clamp((int)Math.Round(cropHeight * scale), 1, BoxSize);
        double stepX = (double)cropWidth / boxWidth, stepY = (double)cropHeight / boxHeight;

        var box = new float[boxWidth * boxHeight];
        for (int by = 0; by < boxHeight; by++)
        {
            double y0 = by * stepY, y1 = y0 + stepY;
            for (int bx = 0; bx < boxWidth; bx++)
            {
                double x0 = bx * stepX, x1 = x0 + stepX;
                double sum = 0;
                for (int sy = (int)y0; sy < Math.Min(cropHeight, (int)Math.Ceiling(y1)); sy++)
                {
                    double coverY = Math.Min(y1, sy + 1) - Math.Max(y0, sy);
                    for (int sx = (int)x0; sx < Math.Min(cropWidth, (int)Math.Ceiling(x1)); sx++)
                    {
                        double coverX = Math.Min(x1, sx + 1) - Math.Max(x0, sx);
                        sum += coverX * coverY * ink[(top + sy) * stride + left + sx];
                    }
                }
                box[by * boxWidth + bx] = (float)(sum / (stepX * stepY));
            }
        }
        return box;
    }

    /// <summary>Places the box in the 28×28 field, shifted by whole pixels so its centre of mass is nearest the field's centre.</summary>
    internal static byte[] CentreByMass(float[] box, int boxWidth, int boxHeight)
    {
        double mass = 0, sumX = 0, sumY = 0;
        for (int y = 0; y < boxHeight; y++)
        {
            for (int x = 0; x < boxWidth; x++)
            {
                float v = box[y * boxWidth + x];
                mass += v;
                sumX += v * (x + 0.5);
                sumY += v * (y + 0.5);
            }
        }
        int offsetX = (int)Math.Round(Size / 2.0 - sumX / mass, MidpointRounding.AwayFromZero);
        int offsetY = (int)Math.Round(Size / 2.0 - sumY / mass, MidpointRounding.AwayFromZero);

        var field = new byte[Size * Size];
        for (int y = 0; y < boxHeight; y++)
        {
            int fy = y + offsetY;
            if (fy is < 0 or >= Size)
                continue;
            for (int x = 0; x < boxWidth; x++)
            {
                int fx = x + offsetX;
                if (fx is < 0 or >= Size)
                    continue;
                field[fy * Size + fx] = (byte)Math.Clamp((int)Math.Round(box[y * boxWidth + x] * 255), 0, 255);
            }
        }
        return field;
    }
}
