using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Smnist.Kernels;

/// <summary>
/// Fast single-threaded matrix product: a register-blocked micro-kernel (Vector512, Vector256, Vector128 or scalar,
/// whichever the machine accelerates) over A read in place and B in packed panels, or in place when it is stored in
/// whole panels. Row-major; arguments in llm.c order (outputs, inputs, dimensions). Allocation-free after the first
/// call on a thread. Each element of C is one multiply-add chain over k in order, so results are bit-identical for
/// identical inputs whatever the shape, alignment or blocking.
/// C must not overlap A or B.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Depth of a block: a (Kc, Nr) B panel and a (Kc, Mr) tile of A stay in L1.</summary>
    private const int Kc = 256;

    /// <summary>Columns of B packed per block.</summary>
    private const int Nc = 512;

    private const int MaxMr = 8;
    private const int MaxNr = 32;

    [ThreadStatic]
    private static PackingBuffers? t_packingBuffers;

    /// <summary>The widest vectors this process accelerates: the one place the SIMD tier is decided.</summary>
    private static readonly SimdTier Current =
        Vector512.IsHardwareAccelerated ? SimdTier.Vector512
        : Vector256.IsHardwareAccelerated ? SimdTier.Vector256
        : Vector128.IsHardwareAccelerated ? SimdTier.Vector128
        : SimdTier.Scalar;

    /// <summary>Which micro-kernel this process runs: "Vector512", "Vector256", "Vector128" or "Scalar".</summary>
    internal static string Tier => Current.ToString();

    /// <summary>Columns per packed panel of the running micro-kernel.</summary>
    internal static int PanelWidth => Current switch
    {
        SimdTier.Vector512 => MicroKernel512.Nr,
        SimdTier.Vector256 => MicroKernel256.Nr,
        SimdTier.Vector128 => MicroKernel128.Nr,
        _ => MicroKernelScalar.Nr,
    };

    /// <summary>
    /// C (m, n) = op(A) (m, k) · op(B) (k, n), plus the old C when <paramref name="accumulate"/>.
    /// op(A) is A stored (m, k) with row stride <paramref name="lda"/>, or, when <paramref name="transposeA"/>,
    /// A stored (k, m); op(B) is B stored (k, n) with row stride <paramref name="ldb"/>, or, when
    /// <paramref name="transposeB"/>, B stored (n, k). Only elements the shape and strides address are touched.
    /// </summary>
    public static void Multiply(Span<float> c, int ldc, ReadOnlySpan<float> a, int lda, bool transposeA,
                                ReadOnlySpan<float> b, int ldb, bool transposeB, int m, int n, int k, bool accumulate)
    {
        GemmShape.Validate(c.Length, ldc, a.Length, lda, transposeA, b.Length, ldb, transposeB, m, n, k);
        if (m == 0 || n == 0)
            return;
        fixed (float* cp = c)
        fixed (float* ap = a)
        fixed (float* bp = b)
        {
            if (k == 0)
                ZeroUnlessAccumulating(cp, ldc, m, n, accumulate);
            else if (Current == SimdTier.Vector512)
                Run<MicroKernel512>(cp, ldc, ap, lda, transposeA, bp, ldb, transposeB, m, n, k, accumulate);
            else if (Current == SimdTier.Vector256)
                Run<MicroKernel256>(cp, ldc, ap, lda, transposeA, bp, ldb, transposeB, m, n, k, accumulate);
            else if (Current == SimdTier.Vector128)
                Run<MicroKernel128>(cp, ldc, ap, lda, transposeA, bp, ldb, transposeB, m, n, k, accumulate);
            else
                Run<MicroKernelScalar>(cp, ldc, ap, lda, transposeA, bp, ldb, transposeB, m, n, k, accumulate);
        }
    }

    /// <summary>
    /// C (m, n) = op(A) (m, k) · B (k, n), plus the old C when <paramref name="accumulate"/>, with B packed
    /// beforehand by <see cref="Pack"/> (k = b.Rows, n = b.Columns). Same results as the unpacked overload.
    /// </summary>
    public static void Multiply(Span<float> c, int ldc, ReadOnlySpan<float> a, int lda, bool transposeA,
                                PackedMatrix b, int m, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.PanelWidth != PanelWidth)
            throw new ArgumentException("the matrix was packed for another micro-kernel", nameof(b));
        int n = b.Columns;
        int k = b.Rows;
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        GemmShape.RequireMatrix(c.Length, ldc, m, n, "c");
        GemmShape.RequireMatrix(a.Length, lda, transposeA ? k : m, transposeA ? m : k, "a");
        if (m == 0 || n == 0)
            return;
        fixed (float* cp = c)
        fixed (float* ap = a)
        {
            if (k == 0)
                ZeroUnlessAccumulating(cp, ldc, m, n, accumulate);
            else if (Current == SimdTier.Vector512)
                RunPacked<MicroKernel512>(cp, ldc, ap, lda, transposeA, b, m, accumulate);
            else if (Current == SimdTier.Vector256)
                RunPacked<MicroKernel256>(cp, ldc, ap, lda, transposeA, b, m, accumulate);
            else if (Current == SimdTier.Vector128)
                RunPacked<MicroKernel128>(cp, ldc, ap, lda, transposeA, b, m, accumulate);
            else
                RunPacked<MicroKernelScalar>(cp, ldc, ap, lda, transposeA, b, m, accumulate);
        }
    }

    /// <summary>
    /// Packs op(B) (destination.Rows, destination.Columns) into <paramref name="destination"/>: B stored (k, n) with
    /// row stride <paramref name="ldb"/>, or, when <paramref name="transposeB"/>, stored (n, k). No allocation.
    /// </summary>
    public static void Pack(PackedMatrix destination, ReadOnlySpan<float> b, int ldb, bool transposeB)
    {
        ArgumentNullException.ThrowIfNull(destination);
        PackPanels(destination, b, ldb, transposeB, 0, destination.Panels);
    }

    /// <summary>
    /// Packs only the column panels [<paramref name="firstPanel"/>, <paramref name="firstPanel"/> + <paramref name="panels"/>)
    /// of op(B), as <see cref="Pack"/> does: threads packing disjoint panel ranges of one matrix at once pack all of it.
    /// </summary>
    public static void PackPanels(PackedMatrix destination, ReadOnlySpan<float> b, int ldb, bool transposeB, int firstPanel, int panels)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.PanelWidth != PanelWidth)
            throw new ArgumentException("the matrix was allocated for another micro-kernel", nameof(destination));
        if (firstPanel < 0 || panels < 0 || firstPanel > destination.Panels - panels)
            throw new ArgumentOutOfRangeException(nameof(panels), $"panels {firstPanel}..{firstPanel + panels} lie outside the matrix's {destination.Panels}");
        int k = destination.Rows;
        int n = destination.Columns;
        GemmShape.RequireMatrix(b.Length, ldb, transposeB ? n : k, transposeB ? k : n, "b");
        int firstColumn = firstPanel * PanelWidth;
        int columns = Math.Min(n, (firstPanel + panels) * PanelWidth) - firstColumn;
        if (k == 0 || columns <= 0)
            return;
        fixed (float* bp = b)
            PackB(destination.Buffer.Pointer + (nint)firstPanel * k * PanelWidth, k * PanelWidth, PanelWidth, bp, ldb, transposeB, 0, firstColumn, k, columns);
    }

    private static void ZeroUnlessAccumulating(float* c, nint ldc, int m, int n, bool accumulate)
    {
        if (accumulate)
            return;
        for (int i = 0; i < m; i++)
            new Span<float>(c + i * ldc, n).Clear();
    }

    private static void Run<TKernel>(float* c, nint ldc, float* a, nint lda, bool transposeA,
                                     float* b, nint ldb, bool transposeB, int m, int n, int k, bool accumulate)
        where TKernel : struct, IMicroKernel
    {
        PackingBuffers buffers = PackingBuffers.Current;
        // B stored (k, n) in whole panels is read in place, a depth row at stride ldb: packing it would copy all of B
        // for what the prefetchers already stream (the weight gradient's (k, 4n) gate gradients are its largest operand).
        bool inPlace = !transposeB && n % TKernel.Nr == 0;
        for (int jc = 0; jc < n; jc += Nc)
        {
            int nc = Math.Min(Nc, n - jc);
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                float* panels;
                nint panelStride, bStride;
                if (inPlace)
                {
                    panels = b + pc * ldb + jc; // panel j Nr columns on, its depth rows ldb apart
                    (panelStride, bStride) = (TKernel.Nr, ldb);
                }
                else
                {
                    panels = buffers.PackedB.Pointer;
                    PackB(panels, kc * TKernel.Nr, TKernel.Nr, b, ldb, transposeB, pc, jc, kc, nc);
                    (panelStride, bStride) = (kc * TKernel.Nr, TKernel.Nr);
                }
                Tiles<TKernel>(c + jc, ldc, a, lda, transposeA, pc, panels, panelStride, bStride, m, nc, kc, accumulate || pc > 0, buffers.Tile.Pointer);
            }
        }
    }

    private static void RunPacked<TKernel>(float* c, nint ldc, float* a, nint lda, bool transposeA,
                                           PackedMatrix b, int m, bool accumulate)
        where TKernel : struct, IMicroKernel
    {
        PackingBuffers buffers = PackingBuffers.Current;
        int k = b.Rows;
        for (int pc = 0; pc < k; pc += Kc)
        {
            int kc = Math.Min(Kc, k - pc);
            Tiles<TKernel>(c, ldc, a, lda, transposeA, pc, b.Buffer.Pointer + pc * TKernel.Nr, k * TKernel.Nr, TKernel.Nr, m, b.Columns, kc, accumulate || pc > 0, buffers.Tile.Pointer);
        }
    }

    /// <summary>
    /// All (Mr, Nr) tiles of a (m, n) block of C over depth [pc, pc + kc). A is read in place: element (i, p) of op(A)
    /// at a[i · lda + p], or at a[p · lda + i] when <paramref name="transposeA"/>, a ragged last tile of fewer than Mr
    /// rows included. Column panel j of B starts at <paramref name="b"/> + j · <paramref name="panelStride"/>, its depth
    /// rows <paramref name="bStride"/> apart. The columns go in groups of as many tiles as a last tile of fewer than Mr
    /// rows takes at once (<see cref="IMicroKernel.PanelsAcross"/>): each group's full row tiles, then its last rows,
    /// while the group's B panels are still in cache. A transposed A takes its full row tiles one at a time across all
    /// the columns instead: a tile's depth run is strided there, so it is kept in L1 while the B panels pass.
    /// </summary>
    private static void Tiles<TKernel>(float* c, nint ldc, float* a, nint lda, bool transposeA, int pc, float* b, nint panelStride, nint bStride,
                                       int m, int n, int kc, bool loadC, float* tile)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.Mr;
        int nr = TKernel.Nr;
        nint rowStride = transposeA ? 1 : lda;
        nint depthStride = transposeA ? lda : 1;
        a += pc * depthStride;
        int lastRows = m % mr, fullRows = m - lastRows;
        int across = lastRows > 0 ? TKernel.PanelsAcross(lastRows) : 1;
        if (transposeA)
        {
            for (int i = 0; i < fullRows; i += mr)
            {
                for (int j = 0; j < n; j += nr)
                    Tile<TKernel>(c + i * ldc + j, ldc, a + i * rowStride, rowStride, depthStride, b + (j / nr) * panelStride, bStride, mr, Math.Min(nr, n - j), kc, loadC, tile);
            }
        }
        for (int group = 0; group < n; group += across * nr)
        {
            int groupEnd = Math.Min(n, group + across * nr);
            if (!transposeA)
            {
                for (int j = group; j < groupEnd; j += nr)
                {
                    for (int i = 0; i < fullRows; i += mr)
                        Tile<TKernel>(c + i * ldc + j, ldc, a + i * rowStride, rowStride, depthStride, b + (j / nr) * panelStride, bStride, mr, Math.Min(nr, n - j), kc, loadC, tile);
                }
            }
            if (lastRows == 0)
                continue;
            float* aTile = a + fullRows * rowStride;
            if (groupEnd - group == across * nr && across > 1)
            {
                TKernel.RunRowsAcross(lastRows, kc, aTile, rowStride, depthStride, b + (group / nr) * panelStride, bStride, panelStride, c + fullRows * ldc + group, ldc, loadC);
                continue;
            }
            for (int j = group; j < groupEnd; j += nr)
                Tile<TKernel>(c + fullRows * ldc + j, ldc, aTile, rowStride, depthStride, b + (j / nr) * panelStride, bStride, lastRows, Math.Min(nr, n - j), kc, loadC, tile);
        }
    }

    /// <summary>One (height, width) tile of C, height ≤ Mr and width ≤ Nr.</summary>
    private static void Tile<TKernel>(float* cTile, nint ldc, float* aTile, nint rowStride, nint depthStride, float* bPanel, nint bStride,
                                      int height, int width, int kc, bool loadC, float* tile)
        where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.Mr;
        int nr = TKernel.Nr;
        if (height == mr && width == nr)
        {
            TKernel.Run(kc, aTile, rowStride, depthStride, bPanel, bStride, cTile, ldc, loadC);
        }
        else if (width == nr)
        {
            // A tile of fewer rows computes and writes only those, so a few rows do not pay for a whole tile.
            TKernel.RunRows(height, kc, aTile, rowStride, depthStride, bPanel, bStride, cTile, ldc, loadC);
        }
        else
        {
            // Edge tile of fewer columns (B packed, zero-padded): run the same multiply-add chains on a (Mr, Nr)
            // scratch tile, so the arithmetic is unchanged, and copy only the addressed part of C in and out.
            if (loadC)
                CopyTile(tile, nr, cTile, ldc, height, width);
            if (height < mr)
                TKernel.RunRows(height, kc, aTile, rowStride, depthStride, bPanel, bStride, tile, nr, loadC);
            else
                TKernel.Run(kc, aTile, rowStride, depthStride, bPanel, bStride, tile, nr, loadC);
            CopyTile(cTile, ldc, tile, nr, height, width);
        }
    }

    private static void CopyTile(float* destination, nint destinationStride, float* source, nint sourceStride, int rows, int columns)
    {
        for (int i = 0; i < rows; i++)
            Unsafe.CopyBlockUnaligned(destination + i * destinationStride, source + i * sourceStride, (uint)(columns * sizeof(float)));
    }

    /// <summary>
    /// Packs depth [pc, pc + kc) and columns [jc, jc + columns) of op(B) into <paramref name="nr"/>-column panels,
    /// each (kc, nr) and <paramref name="panelStride"/> floats apart, zero-padding the last panel's missing columns.
    /// </summary>
    private static void PackB(float* destination, int panelStride, int nr, float* b, nint ldb, bool transposeB,
                              int pc, int jc, int kc, int columns)
    {
        for (int j = 0; j < columns; j += nr)
        {
            float* panel = destination + (j / nr) * panelStride; // (kc, nr)
            int width = Math.Min(nr, columns - j);
            if (transposeB)
            {
                // B stored (n, k): the panel's columns of op(B) are rows of B, transposed.
                Transpose.Run(new Span<float>(panel, kc * nr), nr, new ReadOnlySpan<float>(b + (jc + j) * ldb + pc, (width - 1) * (int)ldb + kc), (int)ldb, rows: width, columns: kc);
                for (int jj = width; jj < nr; jj++)
                {
                    for (int p = 0; p < kc; p++)
                        panel[p * nr + jj] = 0f;
                }
            }
            else
            {
                float* source = b + pc * ldb + jc + j;
                for (int p = 0; p < kc; p++)
                {
                    float* row = panel + p * nr;
                    Unsafe.CopyBlockUnaligned(row, source + p * ldb, (uint)(width * sizeof(float)));
                    for (int jj = width; jj < nr; jj++)
                        row[jj] = 0f;
                }
            }
        }
    }

    /// <summary>Per-thread packing buffers, allocated once at their largest size.</summary>
    private sealed class PackingBuffers
    {
        public AlignedBuffer PackedB { get; } = new(Kc * Nc);             // (Kc, Nc) as Nr-column panels
        public AlignedBuffer Tile { get; } = new(MaxMr * MaxNr);          // (Mr, Nr) edge-tile scratch

        public static PackingBuffers Current => t_packingBuffers ??= new PackingBuffers();
    }
}

/// <summary>The micro-kernel tiers, narrowest first.</summary>
internal enum SimdTier
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}
