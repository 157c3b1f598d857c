namespace Smnist.Data.Strokes;

/// <summary>
/// Turns a 28×28 digit image into the path of a pen (<see cref="PenTrace"/>): threshold the image, thin the ink to a
/// one-pixel skeleton (Zhang–Suen), prune short spurs, and walk the skeleton's pixels stroke by stroke. Every choice
/// is a fixed rule on integer pixel positions, so the same image always gives the same trace (see
/// <see cref="StrokeEncoding.Version"/>).
/// </summary>
/// <remarks>
/// How the walk writes, as a person tends to: each stroke starts at the top-left-most free end of what is left to
/// draw (smallest x + y, then smallest y); a closed loop with no free end starts at its top pixel and runs
/// counter-clockwise on screen. Along a stroke the pen keeps to the straightest way on at a junction (the smallest
/// turn from its heading over the last few pixels), and lifts when no unvisited skeleton edge is left where it stands.
/// </remarks>
public static class StrokeTracer
{
    /// <summary>Pixels at or above this value (of 255) are ink.</summary>
    public const int InkThreshold = 96;

    /// <summary>Side branches of at most this many pixels, from a free end to a junction, are thinning noise and are removed.</summary>
    public const int MaxSpurPixels = 2;

    private const int Side = ImageSet.Width + 2; // the grid has a blank border so neighbours never leave it
    private const int HeadingLookback = 3;

    // The eight neighbours, clockwise from east in screen coordinates (y down).
    private static readonly int[] NeighbourX = [1, 1, 0, -1, -1, -1, 0, 1];
    private static readonly int[] NeighbourY = [0, 1, 1, 1, 0, -1, -1, -1];

    /// <summary>The pen path of one image in MNIST's convention (white digit on black), 784 bytes row-major.</summary>
    public static PenTrace Trace(ReadOnlySpan<byte> image)
    {
        bool[] skeleton = Skeleton(image);
        return Walk(skeleton);
    }

    /// <summary>
    /// The thinned ink of <paramref name="image"/>: 784 flags, row-major, true where the one-pixel skeleton runs
    /// (after spur pruning). This is the set of pixels a <see cref="PenTrace"/> of the image visits.
    /// </summary>
    public static bool[] SkeletonPixels(ReadOnlySpan<byte> image)
    {
        bool[] grid = Skeleton(image);
        var pixels = new bool[ImageSet.Pixels];
        for (int y = 0; y < ImageSet.Height; y++)
        {
            for (int x = 0; x < ImageSet.Width; x++)
                pixels[y * ImageSet.Width + x] = grid[Cell(x, y)];
        }
        return pixels;
    }

    private static int Cell(int x, int y) => (y + 1) * Side + x + 1;

    private static bool[] Skeleton(ReadOnlySpan<byte> image)
    {
        if (image.Length != ImageSet.Pixels)
            throw new ArgumentException($"an image has {ImageSet.Pixels} pixels, not {image.Length}", nameof(image));
        var grid = new bool[Side * Side];
        for (int y = 0; y < ImageSet.Height; y++)
        {
            for (int x = 0; x < ImageSet.Width; x++)
                grid[Cell(x, y)] = image[y * ImageSet.Width + x] >= InkThreshold;
        }
        Thin(grid);
        PruneSpurs(grid);
        return grid;
    }

    /// <summary>Zhang and Suen's parallel thinning (CACM 27(3), 1984): alternate sub-iterations until nothing changes.</summary>
    private static void Thin(bool[] grid)
    {
        var remove = new List<int>();
        Span<bool> ring = stackalloc bool[8]; // P2..P9: north, north-east, east, south-east, south, south-west, west, north-west
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int pass = 0; pass < 2; pass++)
            {
                remove.Clear();
                for (int cell = Side; cell < Side * (Side - 1); cell++)
                {
                    if (!grid[cell])
                        continue;
                    ring[0] = grid[cell - Side];
                    ring[1] = grid[cell - Side + 1];
                    ring[2] = grid[cell + 1];
                    ring[3] = grid[cell + Side + 1];
                    ring[4] = grid[cell + Side];
                    ring[5] = grid[cell + Side - 1];
                    ring[6] = grid[cell - 1];
                    ring[7] = grid[cell - Side - 1];
                    int neighbours = 0, transitions = 0;
                    for (int k = 0; k < 8; k++)
                    {
                        neighbours += ring[k] ? 1 : 0;
                        transitions += !ring[k] && ring[(k + 1) % 8] ? 1 : 0;
                    }
                    if (neighbours < 2 || neighbours > 6 || transitions != 1)
                        continue;
                    bool north = ring[0], east = ring[2], south = ring[4], west = ring[6];
                    bool removable = pass == 0
                        ? !(north && east && south) && !(east && south && west)
                        : !(north && east && west) && !(north && south && west);
                    if (removable)
                        remove.Add(cell);
                }
                foreach (int cell in remove)
                    grid[cell] = false;
                changed |= remove.Count > 0;
            }
        }
    }

    /// <summary>
    /// Whether the skeleton joins <paramref name="cell"/> to its neighbour in <paramref name="direction"/>. A diagonal
    /// step is left out when a pixel beside both makes the same connection through two straight steps, so a
    /// staircase is one path and not a chain of triangles.
    /// </summary>
    private static bool Joined(bool[] grid, int cell, int direction)
    {
        int dx = NeighbourX[direction], dy = NeighbourY[direction];
        if (!grid[cell + dy * Side + dx])
            return false;
        return dx == 0 || dy == 0 || (!grid[cell + dx] && !grid[cell + dy * Side]);
    }

    private static int Degree(bool[] grid, int cell)
    {
        int degree = 0;
        for (int direction = 0; direction < 8; direction++)
            degree += Joined(grid, cell, direction) ? 1 : 0;
        return degree;
    }

    /// <summary>Removes each branch of at most <see cref="MaxSpurPixels"/> pixels that runs from a free end to a junction.</summary>
    private static void PruneSpurs(bool[] grid)
    {
        var spurs = new List<int>();
        var branch = new List<int>();
        for (int cell = Side; cell < Side * (Side - 1); cell++)
        {
            if (!grid[cell] || Degree(grid, cell) != 1)
                continue;
            branch.Clear();
            int previous = -1, current = cell;
            while (true)
            {
                if (Degree(grid, current) >= 3)
                {
                    spurs.AddRange(branch); // reached a junction within the limit: a spur
                    break;
                }
                if (branch.Count == MaxSpurPixels)
                    break;
                branch.Add(current);
                int next = -1;
                for (int direction = 0; direction < 8 && next < 0; direction++)
                {
                    int neighbour = current + NeighbourY[direction] * Side + NeighbourX[direction];
                    if (neighbour != previous && Joined(grid, current, direction))
                        next = neighbour;
                }
                if (next < 0)
                    break; // an isolated segment, not a branch
                previous = current;
                current = next;
            }
        }
        foreach (int cell in spurs)
            grid[cell] = false;
    }

    private static PenTrace Walk(bool[] grid)
    {
        var used = new bool[Side * Side * 8]; // (cell, direction) edges already drawn, marked from both ends
        var remaining = new int[Side * Side];  // undrawn edges at each cell
        var cells = new List<int>();
        for (int cell = Side; cell < Side * (Side - 1); cell++)
        {
            if (!grid[cell])
                continue;
            cells.Add(cell);
            remaining[cell] = Degree(grid, cell);
        }
        var xs = new List<float>();
        var ys = new List<float>();
        var strokeEnds = new List<int>();
        var drawnDots = new bool[Side * Side];
        var path = new List<int>();
        while (true)
        {
            int start = NextStart(cells, remaining, drawnDots, out bool loop);
            if (start < 0)
                break;
            path.Clear();
            path.Add(start);
            drawnDots[start] = true;
            int current = start;
            while (remaining[current] > 0)
            {
                int direction = NextDirection(grid, used, path, loop && path.Count == 1);
                int next = current + NeighbourY[direction] * Side + NeighbourX[direction];
                used[current * 8 + direction] = true;
                used[next * 8 + (direction + 4) % 8] = true;
                remaining[current]--;
                remaining[next]--;
                drawnDots[next] = true;
                path.Add(next);
                current = next;
            }
            foreach (int cell in path)
            {
                xs.Add(cell % Side - 1);
                ys.Add(cell / Side - 1);
            }
            strokeEnds.Add(xs.Count);
        }
        return new PenTrace([.. xs], [.. ys], [.. strokeEnds]);
    }

    /// <summary>
    /// Where the next stroke starts: the top-left-most cell with an odd number of undrawn edges (a free end of what is
    /// left), else the top cell of a closed loop (<paramref name="loop"/>), else an undrawn isolated dot; −1 when done.
    /// </summary>
    private static int NextStart(List<int> cells, int[] remaining, bool[] drawn, out bool loop)
    {
        int best = -1;
        foreach (int cell in cells)
        {
            if (remaining[cell] % 2 == 1 && (best < 0 || TopLeftKey(cell) < TopLeftKey(best)))
                best = cell;
        }
        loop = false;
        if (best >= 0)
            return best;
        foreach (int cell in cells)
        {
            if (remaining[cell] > 0)
            {
                loop = true;
                return cell; // cells run in row-major order: the first is the loop's top (then left-most) pixel
            }
        }
        foreach (int cell in cells)
        {
            if (!drawn[cell])
                return cell;
        }
        return -1;
    }

    private static int TopLeftKey(int cell)
    {
        int x = cell % Side, y = cell / Side;
        return (x + y) * Side + y;
    }

    /// <summary>
    /// The undrawn edge to follow from the end of <paramref name="path"/>: the one closest to the heading over the
    /// last few pixels; at a stroke's first pixel, the one closest to rightwards, or leftwards when starting round a
    /// loop (counter-clockwise from its top).
    /// </summary>
    private static int NextDirection(bool[] grid, bool[] used, List<int> path, bool startsLoop)
    {
        int current = path[^1];
        double headingX, headingY;
        if (path.Count == 1)
        {
            headingX = startsLoop ? -1 : 1;
            headingY = 0.5; // between two equally good ways, the one going down
        }
        else
        {
            int back = path[Math.Max(0, path.Count - 1 - HeadingLookback)];
            headingX = current % Side - back % Side;
            headingY = current / Side - back / Side;
        }
        int best = -1;
        double bestCosine = double.NegativeInfinity;
        for (int direction = 0; direction < 8; direction++)
        {
            if (used[current * 8 + direction] || !Joined(grid, current, direction))
                continue;
            double dx = NeighbourX[direction], dy = NeighbourY[direction];
            double cosine = (dx * headingX + dy * headingY) / Math.Sqrt((dx * dx + dy * dy) * (headingX * headingX + headingY * headingY));
            if (cosine > bestCosine)
            {
                bestCosine = cosine;
                best = direction;
            }
        }
        return best;
    }
}
