namespace Smnist.Data.Strokes;

/// <summary>
/// How a <see cref="PenTrace"/> becomes the steps a model reads: one step per point, of <see cref="Features"/> values
/// (dx, dy, end of stroke, end of digit). dx and dy are the move from the previous point, in pixels (from the image
/// centre for the first point), so a move with the pen up between strokes is the step that starts the next stroke;
/// end of stroke is 1 at each stroke's last point, end of digit 1 at the last step only. A path longer than
/// <see cref="MaxSteps"/> points is cut to its first <see cref="MaxSteps"/>, the last marked as the end of a stroke and of the digit.
/// </summary>
public static class StrokeEncoding
{
    /// <summary>
    /// The version of the conversion from image to steps (<see cref="StrokeTracer"/> and this encoding); it names the
    /// cache, so a change to either must raise it.
    /// </summary>
    public const int Version = 1;

    /// <summary>Values per step: dx, dy, end of stroke, end of digit.</summary>
    public const int Features = 4;

    /// <summary>The longest sequence, T_max; longer paths are cut (no trace of the MNIST training or test set is).</summary>
    public const int MaxSteps = 100;

    /// <summary>Where the pen is before the first point: the image centre.</summary>
    public const float OriginX = ImageSet.Width / 2f, OriginY = ImageSet.Height / 2f;

    /// <summary>Steps an encoding of <paramref name="trace"/> has: its length, at least 1 (an empty image is one blank step), at most <see cref="MaxSteps"/>.</summary>
    public static int StepsOf(PenTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return StepsOf(trace.Length);
    }

    internal static int StepsOf(int points) => Math.Clamp(points, 1, MaxSteps);

    /// <summary>Writes the steps of <paramref name="trace"/> as (<see cref="StepsOf(PenTrace)"/>, <see cref="Features"/>) values into <paramref name="steps"/>.</summary>
    public static void Encode(PenTrace trace, Span<float> steps)
    {
        ArgumentNullException.ThrowIfNull(trace);
        Encode(trace.X, trace.Y, trace.StrokeEnds, steps);
    }

    /// <summary>The steps of <paramref name="trace"/>, (<see cref="StepsOf(PenTrace)"/>, <see cref="Features"/>) values.</summary>
    public static float[] Encode(PenTrace trace)
    {
        var steps = new float[StepsOf(trace) * Features];
        Encode(trace, steps);
        return steps;
    }

    internal static void Encode(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<int> strokeEnds, Span<float> steps)
    {
        int count = StepsOf(x.Length);
        if (steps.Length < count * Features)
            throw new ArgumentException($"{count} steps need {count * Features} values, not {steps.Length}", nameof(steps));
        steps[..(count * Features)].Clear();
        if (x.Length == 0)
        {
            steps[3] = 1f; // nothing drawn: the digit ends at once
            return;
        }
        float previousX = OriginX, previousY = OriginY;
        int stroke = 0;
        for (int point = 0; point < count; point++)
        {
            Span<float> step = steps.Slice(point * Features, Features);
            step[0] = x[point] - previousX;
            step[1] = y[point] - previousY;
            previousX = x[point];
            previousY = y[point];
            if (point + 1 == strokeEnds[stroke])
            {
                step[2] = 1f;
                stroke++;
            }
        }
        steps[(count - 1) * Features + 2] = 1f;
        steps[(count - 1) * Features + 3] = 1f;
    }
}
