namespace Smnist.Data;

/// <summary>Parameters of one affine warp: rotation in degrees (counter-clockwise on screen, as torchvision's), whole-pixel translation, scale.</summary>
internal readonly record struct AffineParameters(double Angle, int TranslateX, int TranslateY, double Scale)
{
    public static AffineParameters Identity => new(0.0, 0, 0, 1.0);
}

/// <summary>
/// The notebook's <c>RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.95, 1.05))</c> on a 28×28 byte image,
/// reproducing torchvision 0.14 on a PIL image byte for byte: torchvision builds the inverse affine matrix about
/// the centre (14, 14) (<c>_get_inverse_affine_matrix</c>), and Pillow's <c>Image.transform(AFFINE, NEAREST)</c>
/// samples it in 16.16 fixed point from pixel centres, or, for a matrix without rotation, with its separate scaling
/// path. Doing the same integer arithmetic gives the same pixels, with no trigonometry per pixel.
/// </summary>
internal static class Augmentation
{
    public const double MaxDegrees = 10.0;
    public const double MaxTranslateFraction = 0.05;
    public const double MinScale = 0.95;
    public const double MaxScale = 1.05;

    private const double Centre = ImageSet.Width * 0.5; // torchvision's PIL centre: (w * 0.5, h * 0.5), no half-pixel offset

    /// <summary>
    /// The parameters for the image at <paramref name="position"/> of <paramref name="epoch"/>, a pure function of
    /// its arguments, drawn as RandomAffine.get_params does: angle uniform in [−10, 10); translations uniform in
    /// ±5% of 28 pixels rounded half to even (so −1, 0 or 1); scale uniform in [0.95, 1.05); no shear.
    /// </summary>
    public static AffineParameters Draw(ulong seed, int epoch, long position)
    {
        var random = DeterministicRandom.For(seed, RandomStreams.Augment, (ulong)(uint)epoch, (ulong)position);
        return Draw(ref random);
    }

    internal static AffineParameters Draw(ref DeterministicRandom random)
    {
        const double maxDx = MaxTranslateFraction * ImageSet.Width;
        const double maxDy = MaxTranslateFraction * ImageSet.Height;
        double angle = random.NextDouble(-MaxDegrees, MaxDegrees);
        int tx = (int)Math.Round(random.NextDouble(-maxDx, maxDx), MidpointRounding.ToEven);
        int ty = (int)Math.Round(random.NextDouble(-maxDy, maxDy), MidpointRounding.ToEven);
        double scale = random.NextDouble(MinScale, MaxScale);
        return new AffineParameters(angle, tx, ty, scale);
    }

    /// <summary>Warps a 28×28 image as <c>torchvision.transforms.functional.affine</c> does on the PIL image (nearest neighbour, fill 0).</summary>
    public static void Warp(ReadOnlySpan<byte> source, Span<byte> destination, AffineParameters parameters)
    {
        if (source.Length != ImageSet.Pixels || destination.Length != ImageSet.Pixels)
            throw new ArgumentException($"Warp takes {ImageSet.Pixels}-byte images; got {source.Length} and {destination.Length}");
        if (parameters.Scale <= 0.0 || !double.IsFinite(parameters.Scale) || !double.IsFinite(parameters.Angle))
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters, "angle must be finite and scale positive");
        Span<double> matrix = stackalloc double[6];
        InverseMatrix(parameters, matrix);
        if (matrix[1] == 0.0 && matrix[3] == 0.0)
            WarpScaling(source, destination, matrix);
        else
            WarpFixedPoint(source, destination, matrix);
    }

    public static void Warp(ReadOnlySpan<byte> source, Span<byte> destination, double angle, int translateX, int translateY, double scale) =>
        Warp(source, destination, new AffineParameters(angle, translateX, translateY, scale));

    /// <summary>
    /// torchvision's <c>_get_inverse_affine_matrix(center, angle, translate, scale, shear=(0, 0))</c>, operation for
    /// operation so the doubles match: output pixel (x, y) samples input (m0 x + m1 y + m2, m3 x + m4 y + m5).
    /// </summary>
    internal static void InverseMatrix(AffineParameters parameters, Span<double> matrix)
    {
        double rotation = parameters.Angle * (Math.PI / 180.0); // math.radians
        double cos = Math.Cos(rotation);
        double sin = Math.Sin(rotation);
        double scale = parameters.Scale;
        // With zero shear the rotation-scale-shear inverse is [cos, sin; -sin, cos] / scale.
        matrix[0] = cos / scale;
        matrix[1] = sin / scale;
        matrix[3] = -sin / scale;
        matrix[4] = cos / scale;
        double shiftX = -Centre - parameters.TranslateX;
        double shiftY = -Centre - parameters.TranslateY;
        matrix[2] = matrix[0] * shiftX + matrix[1] * shiftY + Centre;
        matrix[5] = matrix[3] * shiftX + matrix[4] * shiftY + Centre;
    }

    /// <summary>Pillow's <c>affine_fixed</c>: coefficients rounded to 16.16 fixed point, sampling at pixel centres.</summary>
    private static void WarpFixedPoint(ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<double> m)
    {
        int a0 = Fix(m[0]);
        int a1 = Fix(m[1]);
        int a3 = Fix(m[3]);
        int a4 = Fix(m[4]);
        int rowX = Fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
        int rowY = Fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
        int o = 0;
        for (int y = 0; y < ImageSet.Height; y++, rowX += a1, rowY += a4)
        {
            int xx = rowX;
            int yy = rowY;
            for (int x = 0; x < ImageSet.Width; x++, o++, xx += a0, yy += a3)
            {
                // An arithmetic shift floors, as Pillow's does; a negative coordinate falls outside.
                uint sourceX = (uint)(xx >> 16);
                uint sourceY = (uint)(yy >> 16);
                destination[o] = sourceX < ImageSet.Width && sourceY < ImageSet.Height
                    ? source[(int)sourceY * ImageSet.Width + (int)sourceX]
                    : (byte)0;
            }
        }
    }

    private static int Fix(double value) => (int)Math.Floor(value * 65536.0 + 0.5);

    /// <summary>
    /// Pillow's <c>ImagingScaleAffine</c>, taken when the matrix has no rotation terms (angle 0): coordinates are
    /// accumulated in doubles and truncated, so this path must be reproduced as is rather than via fixed point.
    /// </summary>
    private static void WarpScaling(ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<double> m)
    {
        Span<int> sourceColumn = stackalloc int[ImageSet.Width];
        sourceColumn.Clear();
        int firstColumn = ImageSet.Width;
        int endColumn = 0;
        double xo = m[2] + m[0] * 0.5;
        for (int x = 0; x < ImageSet.Width; x++, xo += m[0])
        {
            int xin = Coordinate(xo);
            if (xin >= 0 && xin < ImageSet.Width)
            {
                endColumn = x + 1;
                firstColumn = Math.Min(firstColumn, x);
                sourceColumn[x] = xin;
            }
        }
        destination.Clear();
        double yo = m[5] + m[4] * 0.5;
        for (int y = 0; y < ImageSet.Height; y++, yo += m[4])
        {
            int yin = Coordinate(yo);
            if (yin < 0 || yin >= ImageSet.Height)
                continue;
            ReadOnlySpan<byte> sourceRow = source.Slice(yin * ImageSet.Width, ImageSet.Width);
            Span<byte> destinationRow = destination.Slice(y * ImageSet.Width, ImageSet.Width);
            for (int x = firstColumn; x < endColumn; x++)
                destinationRow[x] = sourceRow[sourceColumn[x]];
        }
    }

    private static int Coordinate(double value) => value < 0.0 ? -1 : (int)value;
}
