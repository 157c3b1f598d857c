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
    /// Element (i, p) of the (Mr, kc) block of A is at a[i · rowStride + p · depthStride]: a packed (kc, Mr) panel
    /// (1, Mr) or rows of the caller's matrix (lda, 1). b is a packed (kc, Nr) panel. Every element is one
    /// multiply-add chain in p order, so the result does not depend on where the tile lies in the matrix.
    /// </summary>
    static abstract void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC);

    /// <summary>
    /// As <see cref="Run"/> for the first <paramref name="rows"/> (1..Mr − 1) rows only, with the same multiply-add
    /// chains, so the same results: an edge tile (a batch's last few rows, or the few sequences still running at a
    /// step) costs about its rows rather than a whole tile. A tier may run the whole tile instead.
    /// </summary>
    static abstract void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC);
}

/// <summary>8 × 32 tile in 16 Vector512 accumulators (AVX-512).</summary>
internal readonly unsafe struct MicroKernel512 : IMicroKernel
{
    public static int Mr => 8;
    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
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
            b += 32;
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

    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
    {
        switch (rows)
        {
            case 1: RunRows<Rows1>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            case 2: RunRows<Rows2>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            case 3: RunRows<Rows3>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            case 4: RunRows<Rows4>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            case 5: RunRows<Rows5>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            case 6: RunRows<Rows6>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
            default: RunRows<Rows7>(kc, a, rowStride, depthStride, b, c, ldc, loadC); break;
        }
    }

    /// <summary>The first <typeparamref name="TRows"/> rows of <see cref="Run"/>: compiled once per count, the unused rows folded away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TRows>(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
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
            b += 32;
        }
        c00.Store(c); c01.Store(c + 16);
        if (r > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 16); }
        if (r > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16); }
        if (r > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16); }
        if (r > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16); }
        if (r > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16); }
        if (r > 6) { c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16); }
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
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
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
            b += 16;
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>Three rows or fewer take the half-height tile, more the whole one.</summary>
    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
    {
        if (rows <= 3)
            RunHalf(kc, a, rowStride, depthStride, b, c, ldc, loadC);
        else
            Run(kc, a, rowStride, depthStride, b, c, ldc, loadC);
    }

    /// <summary>The first three rows of <see cref="Run"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunHalf(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21;
        if (loadC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + 8);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = Vector256<float>.Zero;
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
            a += depthStride;
            b += 16;
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
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
    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
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
            b += 8;
        }
        c00.Store(c); c01.Store(c + 4);
        c10.Store(c + ldc); c11.Store(c + ldc + 4);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 4);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 4);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 4);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 4);
    }

    /// <summary>This fallback tier runs edge tiles whole.</summary>
    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC) =>
        Run(kc, a, rowStride, depthStride, b, c, ldc, loadC);
}

/// <summary>4 × 4 tile in scalar registers, for machines without hardware vectors.</summary>
internal readonly unsafe struct MicroKernelScalar : IMicroKernel
{
    public static int Mr => 4;
    public static int Nr => 4;

    public static void Run(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC)
    {
        float* tile = stackalloc float[16]; // (4, 4)
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
                tile[i * 4 + j] = loadC ? c[i * ldc + j] : 0f;
        }
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                float ai = a[i * rowStride];
                tile[i * 4] += ai * b[0];
                tile[i * 4 + 1] += ai * b[1];
                tile[i * 4 + 2] += ai * b[2];
                tile[i * 4 + 3] += ai * b[3];
            }
            a += depthStride;
            b += 4;
        }
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
                c[i * ldc + j] = tile[i * 4 + j];
        }
    }

    /// <summary>This fallback tier runs edge tiles whole.</summary>
    public static void RunRows(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, nint ldc, bool loadC) =>
        Run(kc, a, rowStride, depthStride, b, c, ldc, loadC);
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
