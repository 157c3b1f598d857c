namespace Smnist.Data.Strokes;

/// <summary>
/// Random variation of a pen path, to make a model robust to how people draw: the seed notebook's affine warp
/// (rotation ±10°, shift ±5 % of 28 pixels, scale 0.95–1.05, no shear; see the image augmentation) applied to the
/// points about the image centre, then, each with probability <see cref="ReorderProbability"/>, the strokes put in
/// a random order, and each stroke reversed with probability <see cref="ReverseProbability"/>. The draws of example i
/// in epoch e come from (seed, e, i) alone. One instance holds scratch buffers: one thread at a time.
/// </summary>
public sealed class StrokeAugmentation
{
    /// <summary>Chance that the strokes of an example are put in a random order.</summary>
    public const double ReorderProbability = 0.25;

    /// <summary>Chance that each stroke is drawn the other way.</summary>
    public const double ReverseProbability = 0.25;

    private readonly float[] _x = new float[StrokeEncoding.MaxSteps];
    private readonly float[] _y = new float[StrokeEncoding.MaxSteps];
    private readonly int[] _ends = new int[StrokeEncoding.MaxSteps];
    private readonly int[] _order = new int[StrokeEncoding.MaxSteps];

    /// <summary>Writes the steps of <paramref name="trace"/>, varied by draws from (<paramref name="seed"/>, <paramref name="epoch"/>, <paramref name="example"/>), into <paramref name="steps"/>.</summary>
    public void Encode(PenTrace trace, ulong seed, int epoch, int example, Span<float> steps)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var random = DeterministicRandom.For(seed, RandomStreams.StrokeAugment, (ulong)(uint)epoch, (ulong)(uint)example);
        AffineParameters affine = Augmentation.Draw(ref random);
        // The image warp's translation is whole pixels only because images are; points take the same rounded shift.
        double radians = affine.Angle * (Math.PI / 180.0);
        double cos = Math.Cos(radians) * affine.Scale, sin = Math.Sin(radians) * affine.Scale;
        int length = Math.Min(trace.Length, StrokeEncoding.MaxSteps);
        int strokes = trace.Strokes;
        for (int s = 0; s < strokes; s++)
            _order[s] = s;
        if (random.NextDouble() < ReorderProbability)
            random.Shuffle(_order.AsSpan(0, strokes));
        ReadOnlySpan<int> ends = trace.StrokeEnds;
        int written = 0, writtenStrokes = 0;
        for (int k = 0; k < strokes && written < length; k++)
        {
            int s = _order[k];
            int start = s == 0 ? 0 : ends[s - 1], end = ends[s];
            bool reverse = random.NextDouble() < ReverseProbability;
            for (int j = 0; j < end - start && written < length; j++)
            {
                int point = reverse ? end - 1 - j : start + j;
                // Counter-clockwise on screen (y down) by the angle, scaled, about the centre, then shifted.
                double dx = trace.X[point] - StrokeEncoding.OriginX, dy = trace.Y[point] - StrokeEncoding.OriginY;
                _x[written] = (float)(StrokeEncoding.OriginX + cos * dx + sin * dy + affine.TranslateX);
                _y[written] = (float)(StrokeEncoding.OriginY - sin * dx + cos * dy + affine.TranslateY);
                written++;
            }
            _ends[writtenStrokes++] = written;
        }
        StrokeEncoding.Encode(_x.AsSpan(0, written), _y.AsSpan(0, written), _ends.AsSpan(0, writtenStrokes), steps);
    }
}
