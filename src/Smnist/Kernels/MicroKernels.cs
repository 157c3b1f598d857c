using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Smnist.Kernels;

/// <summary>
/// A register-blocked tile of the product. Implemented by structs so that the generic driver is compiled once per
/// kernel, with <see cref="Mr"/> and <see cref="Nr"/> as constants.
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Rows of C per tile.</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of C per tile.</summary>
    static abstract int Nr { get; }

    /// <summary>
    /// c (Mr, Nr), row stride <paramref name="ldc"/> ← (<paramref name="loadC"/> ? c : 0) + Σ_p a[:, p] b[p, :].
    /// Element (i, p) of the (Mr, kc) block of A is at a[i · rowStride + p · depthStride]: rows of the caller's matrix
    /// (lda, 1), or its columns when it is stored transposed (1, lda). Row p of the (kc, Nr) block of B is at
    /// b + p · bStride: a packed panel (Nr), or the caller's matrix read in place (its row stride). Every element is one
    /// multiply-add chain in p order, so the result does not depend on where the tile lies in the matrix.
    /// </summary>
    static abstract void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC);

    /// <summary>
    /// As <see cref="Run"/> for the first <paramref name="rows"/> (1..Mr − 1) rows only, with the same multiply-add
    /// chains, so the same results. It reads and writes those rows alone, so an edge tile (a batch's last few rows, or
    /// the few sequences still running at a step) is read in place and written straight into C, and costs about its
    /// rows rather than a whole tile.
    /// </summary>
    static abstract void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC);

    /// <summary>Column tiles <see cref="RunRowsAcross"/> takes at once for a tile of <paramref name="rows"/> (1..Mr − 1) rows.</summary>
    static abstract int PanelsAcross(int rows);

    /// <summary>
    /// As <see cref="RunRows"/> over <see cref="PanelsAcross"/>(<paramref name="rows"/>) consecutive column tiles at
    /// once: their B panels <paramref name="panelStride"/> floats apart from <paramref name="b"/>, their C tiles Nr
    /// columns apart from <paramref name="c"/>. A few rows have too few independent multiply-add chains per tile to
    /// keep the multiply-add units busy; several tiles together have enough. Same chains, so the same results.
    /// </summary>
    static abstract void RunRowsAcross(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC);
}

/// <summary>8 × 32 tile in 16 Vector512 accumulators (AVX-512).</summary>
internal readonly unsafe struct MicroKernel512 : IMicroKernel
{
    public static int Mr => 8;
    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (loadC)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16);
            c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + 16);
            c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + 16);
            c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + 16);
            c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + 16);
            c60 = Vector512.Load(c + 6 * ldc); c61 = Vector512.Load(c + 6 * ldc + 16);
            c70 = Vector512.Load(c + 7 * ldc); c71 = Vector512.Load(c + 7 * ldc + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
            c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[rowStride]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2 * rowStride]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3 * rowStride]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4 * rowStride]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5 * rowStride]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6 * rowStride]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7 * rowStride]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
    }

    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        switch (rows)
        {
            case 1: RunRows<Rows1>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 2: RunRows<Rows2>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 3: RunRows<Rows3>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 4: RunRows<Rows4>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 5: RunRows<Rows5>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 6: RunRows<Rows6>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            default: RunRows<Rows7>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
        }
    }

    /// <summary>The first <typeparamref name="TRows"/> rows of <see cref="Run"/>: compiled once per count, the unused rows folded away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TRows>(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
        where TRows : struct, IRowCount
    {
        int r = TRows.Value;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default;
        if (loadC)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            if (r > 1) { c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16); }
            if (r > 2) { c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + 16); }
            if (r > 3) { c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + 16); }
            if (r > 4) { c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + 16); }
            if (r > 5) { c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + 16); }
            if (r > 6) { c60 = Vector512.Load(c + 6 * ldc); c61 = Vector512.Load(c + 6 * ldc + 16); }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            if (r > 1) { ai = Vector512.Create(a[rowStride]); c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11); }
            if (r > 2) { ai = Vector512.Create(a[2 * rowStride]); c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21); }
            if (r > 3) { ai = Vector512.Create(a[3 * rowStride]); c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31); }
            if (r > 4) { ai = Vector512.Create(a[4 * rowStride]); c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41); }
            if (r > 5) { ai = Vector512.Create(a[5 * rowStride]); c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51); }
            if (r > 6) { ai = Vector512.Create(a[6 * rowStride]); c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61); }
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 16);
        if (r > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 16); }
        if (r > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16); }
        if (r > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16); }
        if (r > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16); }
        if (r > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16); }
        if (r > 6) { c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16); }
    }

    /// <summary>
    /// Column tiles <see cref="RunRowsAcross"/> takes at once for <paramref name="rows"/> rows: a tile of one row has two
    /// multiply-add chains, too few to hide the multiply-add latency, so one row takes four tiles and two or three rows two.
    /// </summary>
    public static int PanelsAcross(int rows) => rows == 1 ? 4 : rows <= 3 ? 2 : 1;

    public static void RunRowsAcross(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC)
    {
        switch (rows)
        {
            case 1: RunRowsAcross<Rows1, Rows4>(kc, a, rowStride, depthStride, b, bStride, panelStride, c, ldc, loadC); break;
            case 2: RunRowsAcross<Rows2, Rows2>(kc, a, rowStride, depthStride, b, bStride, panelStride, c, ldc, loadC); break;
            case 3: RunRowsAcross<Rows3, Rows2>(kc, a, rowStride, depthStride, b, bStride, panelStride, c, ldc, loadC); break;
            default: RunRows(rows, kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
        }
    }

    /// <summary>
    /// The first <typeparamref name="TRows"/> rows (up to 3) of <typeparamref name="TPanels"/> (up to 4) consecutive tiles of
    /// <see cref="Run"/>: compiled once per pair, the unused accumulators folded away.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRowsAcross<TRows, TPanels>(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC)
        where TRows : struct, IRowCount
        where TPanels : struct, IRowCount
    {
        int r = TRows.Value, q = TPanels.Value;
        Vector512<float> c000 = default, c001 = default, c010 = default, c011 = default, c020 = default, c021 = default, c030 = default, c031 = default, c100 = default, c101 = default, c110 = default, c111 = default;
        Vector512<float> c120 = default, c121 = default, c130 = default, c131 = default, c200 = default, c201 = default, c210 = default, c211 = default, c220 = default, c221 = default, c230 = default, c231 = default;
        float* b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        if (loadC)
        {
            c000 = Vector512.Load(c); c001 = Vector512.Load(c + 16);
            if (q > 1) { c010 = Vector512.Load(c + 32); c011 = Vector512.Load(c + 48); }
            if (q > 2) { c020 = Vector512.Load(c + 64); c021 = Vector512.Load(c + 80); }
            if (q > 3) { c030 = Vector512.Load(c + 96); c031 = Vector512.Load(c + 112); }
            if (r > 1) { c100 = Vector512.Load(c + ldc); c101 = Vector512.Load(c + ldc + 16); }
            if (r > 1 && q > 1) { c110 = Vector512.Load(c + ldc + 32); c111 = Vector512.Load(c + ldc + 48); }
            if (r > 1 && q > 2) { c120 = Vector512.Load(c + ldc + 64); c121 = Vector512.Load(c + ldc + 80); }
            if (r > 1 && q > 3) { c130 = Vector512.Load(c + ldc + 96); c131 = Vector512.Load(c + ldc + 112); }
            if (r > 2) { c200 = Vector512.Load(c + 2 * ldc); c201 = Vector512.Load(c + 2 * ldc + 16); }
            if (r > 2 && q > 1) { c210 = Vector512.Load(c + 2 * ldc + 32); c211 = Vector512.Load(c + 2 * ldc + 48); }
            if (r > 2 && q > 2) { c220 = Vector512.Load(c + 2 * ldc + 64); c221 = Vector512.Load(c + 2 * ldc + 80); }
            if (r > 2 && q > 3) { c230 = Vector512.Load(c + 2 * ldc + 96); c231 = Vector512.Load(c + 2 * ldc + 112); }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> a0 = Vector512.Create(a[0]);
            Vector512<float> a1 = r > 1 ? Vector512.Create(a[rowStride]) : default;
            Vector512<float> a2 = r > 2 ? Vector512.Create(a[2 * rowStride]) : default;
            {
                Vector512<float> x0 = Vector512.Load(b), x1 = Vector512.Load(b + 16);
                c000 = Vector512.FusedMultiplyAdd(a0, x0, c000); c001 = Vector512.FusedMultiplyAdd(a0, x1, c001);
                if (r > 1) { c100 = Vector512.FusedMultiplyAdd(a1, x0, c100); c101 = Vector512.FusedMultiplyAdd(a1, x1, c101); }
                if (r > 2) { c200 = Vector512.FusedMultiplyAdd(a2, x0, c200); c201 = Vector512.FusedMultiplyAdd(a2, x1, c201); }
            }
            if (q > 1)
            {
                Vector512<float> x0 = Vector512.Load(b1), x1 = Vector512.Load(b1 + 16);
                c010 = Vector512.FusedMultiplyAdd(a0, x0, c010); c011 = Vector512.FusedMultiplyAdd(a0, x1, c011);
                if (r > 1) { c110 = Vector512.FusedMultiplyAdd(a1, x0, c110); c111 = Vector512.FusedMultiplyAdd(a1, x1, c111); }
                if (r > 2) { c210 = Vector512.FusedMultiplyAdd(a2, x0, c210); c211 = Vector512.FusedMultiplyAdd(a2, x1, c211); }
            }
            if (q > 2)
            {
                Vector512<float> x0 = Vector512.Load(b2), x1 = Vector512.Load(b2 + 16);
                c020 = Vector512.FusedMultiplyAdd(a0, x0, c020); c021 = Vector512.FusedMultiplyAdd(a0, x1, c021);
                if (r > 1) { c120 = Vector512.FusedMultiplyAdd(a1, x0, c120); c121 = Vector512.FusedMultiplyAdd(a1, x1, c121); }
                if (r > 2) { c220 = Vector512.FusedMultiplyAdd(a2, x0, c220); c221 = Vector512.FusedMultiplyAdd(a2, x1, c221); }
            }
            if (q > 3)
            {
                Vector512<float> x0 = Vector512.Load(b3), x1 = Vector512.Load(b3 + 16);
                c030 = Vector512.FusedMultiplyAdd(a0, x0, c030); c031 = Vector512.FusedMultiplyAdd(a0, x1, c031);
                if (r > 1) { c130 = Vector512.FusedMultiplyAdd(a1, x0, c130); c131 = Vector512.FusedMultiplyAdd(a1, x1, c131); }
                if (r > 2) { c230 = Vector512.FusedMultiplyAdd(a2, x0, c230); c231 = Vector512.FusedMultiplyAdd(a2, x1, c231); }
            }
            a += depthStride;
            b += bStride; b1 += bStride; b2 += bStride; b3 += bStride;
        }
        c000.Store(c); c001.Store(c + 16);
        if (q > 1) { c010.Store(c + 32); c011.Store(c + 48); }
        if (q > 2) { c020.Store(c + 64); c021.Store(c + 80); }
        if (q > 3) { c030.Store(c + 96); c031.Store(c + 112); }
        if (r > 1) { c100.Store(c + ldc); c101.Store(c + ldc + 16); }
        if (r > 1 && q > 1) { c110.Store(c + ldc + 32); c111.Store(c + ldc + 48); }
        if (r > 1 && q > 2) { c120.Store(c + ldc + 64); c121.Store(c + ldc + 80); }
        if (r > 1 && q > 3) { c130.Store(c + ldc + 96); c131.Store(c + ldc + 112); }
        if (r > 2) { c200.Store(c + 2 * ldc); c201.Store(c + 2 * ldc + 16); }
        if (r > 2 && q > 1) { c210.Store(c + 2 * ldc + 32); c211.Store(c + 2 * ldc + 48); }
        if (r > 2 && q > 2) { c220.Store(c + 2 * ldc + 64); c221.Store(c + 2 * ldc + 80); }
        if (r > 2 && q > 3) { c230.Store(c + 2 * ldc + 96); c231.Store(c + 2 * ldc + 112); }
    }
}

/// <summary>6 × 16 tile in 12 Vector256 accumulators (AVX2 + FMA: 16 registers).</summary>
internal readonly unsafe struct MicroKernel256 : IMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Vector256.FusedMultiplyAdd(x, y, acc) : x * y + acc;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (loadC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = Vector256<float>.Zero;
            c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01);
            ai = Vector256.Create(a[rowStride]);
            c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11);
            ai = Vector256.Create(a[2 * rowStride]);
            c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21);
            ai = Vector256.Create(a[3 * rowStride]);
            c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31);
            ai = Vector256.Create(a[4 * rowStride]);
            c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41);
            ai = Vector256.Create(a[5 * rowStride]);
            c50 = MulAdd(ai, b0, c50); c51 = MulAdd(ai, b1, c51);
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>This tier takes one column tile at a time.</summary>
    public static int PanelsAcross(int rows) => 1;

    public static void RunRowsAcross(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC) =>
        RunRows(rows, kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC);

    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        switch (rows)
        {
            case 1: RunRows<Rows1>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 2: RunRows<Rows2>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 3: RunRows<Rows3>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 4: RunRows<Rows4>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            default: RunRows<Rows5>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
        }
    }

    /// <summary>The first <typeparamref name="TRows"/> rows of <see cref="Run"/>: compiled once per count, the unused rows folded away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TRows>(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
        where TRows : struct, IRowCount
    {
        int r = TRows.Value;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default;
        if (loadC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            if (r > 1) { c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8); }
            if (r > 2) { c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8); }
            if (r > 3) { c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + 8); }
            if (r > 4) { c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + 8); }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01);
            if (r > 1) { ai = Vector256.Create(a[rowStride]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
            if (r > 2) { ai = Vector256.Create(a[2 * rowStride]); c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); }
            if (r > 3) { ai = Vector256.Create(a[3 * rowStride]); c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); }
            if (r > 4) { ai = Vector256.Create(a[4 * rowStride]); c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41); }
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 8);
        if (r > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 8); }
        if (r > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8); }
        if (r > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8); }
        if (r > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8); }
    }
}

/// <summary>6 × 8 tile in 12 Vector128 accumulators (SSE or NEON; fused multiply-add only where the hardware has it).</summary>
internal readonly unsafe struct MicroKernel128 : IMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> MulAdd(Vector128<float> x, Vector128<float> y, Vector128<float> acc) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(x, y, acc) : x * y + acc;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (loadC)
        {
            c00 = Vector128.Load(c); c01 = Vector128.Load(c + 4);
            c10 = Vector128.Load(c + ldc); c11 = Vector128.Load(c + ldc + 4);
            c20 = Vector128.Load(c + 2 * ldc); c21 = Vector128.Load(c + 2 * ldc + 4);
            c30 = Vector128.Load(c + 3 * ldc); c31 = Vector128.Load(c + 3 * ldc + 4);
            c40 = Vector128.Load(c + 4 * ldc); c41 = Vector128.Load(c + 4 * ldc + 4);
            c50 = Vector128.Load(c + 5 * ldc); c51 = Vector128.Load(c + 5 * ldc + 4);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = Vector128<float>.Zero;
            c30 = c31 = c40 = c41 = c50 = c51 = Vector128<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b);
            Vector128<float> b1 = Vector128.Load(b + 4);
            Vector128<float> ai = Vector128.Create(a[0]);
            c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01);
            ai = Vector128.Create(a[rowStride]);
            c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11);
            ai = Vector128.Create(a[2 * rowStride]);
            c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21);
            ai = Vector128.Create(a[3 * rowStride]);
            c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31);
            ai = Vector128.Create(a[4 * rowStride]);
            c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41);
            ai = Vector128.Create(a[5 * rowStride]);
            c50 = MulAdd(ai, b0, c50); c51 = MulAdd(ai, b1, c51);
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 4);
        c10.Store(c + ldc); c11.Store(c + ldc + 4);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 4);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 4);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 4);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 4);
    }

    /// <summary>This tier takes one column tile at a time.</summary>
    public static int PanelsAcross(int rows) => 1;

    public static void RunRowsAcross(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC) =>
        RunRows(rows, kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC);

    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        switch (rows)
        {
            case 1: RunRows<Rows1>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 2: RunRows<Rows2>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 3: RunRows<Rows3>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            case 4: RunRows<Rows4>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
            default: RunRows<Rows5>(kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC); break;
        }
    }

    /// <summary>The first <typeparamref name="TRows"/> rows of <see cref="Run"/>: compiled once per count, the unused rows folded away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TRows>(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
        where TRows : struct, IRowCount
    {
        int r = TRows.Value;
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default;
        if (loadC)
        {
            c00 = Vector128.Load(c); c01 = Vector128.Load(c + 4);
            if (r > 1) { c10 = Vector128.Load(c + ldc); c11 = Vector128.Load(c + ldc + 4); }
            if (r > 2) { c20 = Vector128.Load(c + 2 * ldc); c21 = Vector128.Load(c + 2 * ldc + 4); }
            if (r > 3) { c30 = Vector128.Load(c + 3 * ldc); c31 = Vector128.Load(c + 3 * ldc + 4); }
            if (r > 4) { c40 = Vector128.Load(c + 4 * ldc); c41 = Vector128.Load(c + 4 * ldc + 4); }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b);
            Vector128<float> b1 = Vector128.Load(b + 4);
            Vector128<float> ai = Vector128.Create(a[0]);
            c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01);
            if (r > 1) { ai = Vector128.Create(a[rowStride]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
            if (r > 2) { ai = Vector128.Create(a[2 * rowStride]); c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); }
            if (r > 3) { ai = Vector128.Create(a[3 * rowStride]); c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); }
            if (r > 4) { ai = Vector128.Create(a[4 * rowStride]); c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41); }
            a += depthStride;
            b += bStride;
        }
        c00.Store(c); c01.Store(c + 4);
        if (r > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 4); }
        if (r > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 4); }
        if (r > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 4); }
        if (r > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 4); }
    }
}

/// <summary>4 × 4 tile in scalar registers, for machines without hardware vectors.</summary>
internal readonly unsafe struct MicroKernelScalar : IMicroKernel
{
    public static int Mr => 4;
    public static int Nr => 4;

    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC) =>
        RunRows(4, kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC);

    /// <summary>This tier takes one column tile at a time.</summary>
    public static int PanelsAcross(int rows) => 1;

    public static void RunRowsAcross(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, nint panelStride, float* c, nint ldc, bool loadC) =>
        RunRows(rows, kc, a, rowStride, depthStride, b, bStride, c, ldc, loadC);

    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc, bool loadC)
    {
        float* tile = stackalloc float[16]; // (rows, 4)
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < 4; j++)
                tile[i * 4 + j] = loadC ? c[i * ldc + j] : 0f;
        }
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < rows; i++)
            {
                float ai = a[i * rowStride];
                tile[i * 4] += ai * b[0];
                tile[i * 4 + 1] += ai * b[1];
                tile[i * 4 + 2] += ai * b[2];
                tile[i * 4 + 3] += ai * b[3];
            }
            a += depthStride;
            b += bStride;
        }
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < 4; j++)
                c[i * ldc + j] = tile[i * 4 + j];
        }
    }
}

/// <summary>A row count known when a kernel is compiled, so that the rows beyond it cost nothing.</summary>
internal interface IRowCount
{
    static abstract int Value { get; }
}

internal readonly struct Rows1 : IRowCount { public static int Value => 1; }
internal readonly struct Rows2 : IRowCount { public static int Value => 2; }
internal readonly struct Rows3 : IRowCount { public static int Value => 3; }
internal readonly struct Rows4 : IRowCount { public static int Value => 4; }
internal readonly struct Rows5 : IRowCount { public static int Value => 5; }
internal readonly struct Rows6 : IRowCount { public static int Value => 6; }
internal readonly struct Rows7 : IRowCount { public static int Value => 7; }
