namespace Smnist.Data.Strokes;

/// <summary>
/// The path of a pen over a 28×28 digit: <see cref="Length"/> points in pixel coordinates (x to the right, y down,
/// pixel centres at whole numbers), cut into strokes; stroke s runs from point <see cref="StrokeEnds"/>[s − 1]
/// (0 for the first) up to, not including, <see cref="StrokeEnds"/>[s]. <see cref="StrokeEncoding"/> turns it into steps.
/// </summary>
public sealed class PenTrace
{
    private readonly float[] _x;
    private readonly float[] _y;
    private readonly int[] _strokeEnds;

    /// <summary>A path of points (<paramref name="x"/>, <paramref name="y"/>) cut into strokes at <paramref name="strokeEnds"/>.</summary>
    public PenTrace(float[] x, float[] y, int[] strokeEnds)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(strokeEnds);
        if (x.Length != y.Length)
            throw new ArgumentException($"the path has {x.Length} x and {y.Length} y coordinates", nameof(y));
        for (int s = 0; s < strokeEnds.Length; s++)
        {
            if (strokeEnds[s] <= (s == 0 ? 0 : strokeEnds[s - 1]))
                throw new ArgumentException("every stroke holds at least one point, in order", nameof(strokeEnds));
        }
        if ((strokeEnds.Length == 0 ? 0 : strokeEnds[^1]) != x.Length)
            throw new ArgumentException($"the strokes end at {(strokeEnds.Length == 0 ? 0 : strokeEnds[^1])}, the path has {x.Length} points", nameof(strokeEnds));
        _x = x;
        _y = y;
        _strokeEnds = strokeEnds;
    }

    /// <summary>Points on the path; 0 for an image with no ink.</summary>
    public int Length => _x.Length;

    /// <summary>Number of strokes.</summary>
    public int Strokes => _strokeEnds.Length;

    /// <summary>(Length) x of each point, in pixels from the left.</summary>
    public ReadOnlySpan<float> X => _x;

    /// <summary>(Length) y of each point, in pixels from the top.</summary>
    public ReadOnlySpan<float> Y => _y;

    /// <summary>(Strokes) the index one past each stroke's last point.</summary>
    public ReadOnlySpan<int> StrokeEnds => _strokeEnds;
}
