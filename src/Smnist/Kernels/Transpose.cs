using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Smnist.Kernels;

/// <summary>
/// Matrix transposes for the engine's layout changes (the gate weights' forward packing, the weight gradient): in 8×8
/// blocks, so that a block's source and destination lines stay in L1, each block moved in AVX registers where the
/// machine has them (floats) and element by element elsewhere. Moves only: every path gives the same bits.
/// </summary>
internal static class Transpose
{
    private const int Block = 8;

    /// <summary>
    /// destination (columns, rows), row stride <paramref name="ldd"/> = source (rows, columns), row stride
    /// <paramref name="lds"/>, transposed. Only elements the shape and strides address are touched; the two must not overlap.
    /// </summary>
    public static void Run<T>(Span<T> destination, int ldd, ReadOnlySpan<T> source, int lds, int rows, int columns)
        where T : unmanaged
    {
        GemmShape.RequireMatrix(destination.Length, ldd, columns, rows, "destination");
        GemmShape.RequireMatrix(source.Length, lds, rows, columns, "source");
        ref T to = ref MemoryMarshal.GetReference(destination);
        ref T from = ref MemoryMarshal.GetReference(source);
        for (int i = 0; i < rows; i += Block)
        {
            int height = Math.Min(Block, rows - i);
            for (int j = 0; j < columns; j += Block)
            {
                int width = Math.Min(Block, columns - j);
                ref T blockTo = ref Unsafe.Add(ref to, (nint)j * ldd + i);
                ref T blockFrom = ref Unsafe.Add(ref from, (nint)i * lds + j);
                if (typeof(T) == typeof(float) && Avx.IsSupported && height == Block && width == Block)
                    Block8x8(ref Unsafe.As<T, float>(ref blockTo), ldd, ref Unsafe.As<T, float>(ref blockFrom), lds);
                else
                    Elements(ref blockTo, ldd, ref blockFrom, lds, height, width);
            }
        }
    }

    private static void Elements<T>(ref T destination, nint ldd, ref T source, nint lds, int rows, int columns)
        where T : unmanaged
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
                Unsafe.Add(ref destination, j * ldd + i) = Unsafe.Add(ref source, i * lds + j);
        }
    }

    /// <summary>The 8×8 transpose in eight AVX registers: pairs of rows interleaved, then pairs of pairs, then 128-bit halves.</summary>
    private static void Block8x8(ref float destination, nint ldd, ref float source, nint lds)
    {
        Vector256<float> r0 = Load(ref source, 0), r1 = Load(ref source, lds), r2 = Load(ref source, 2 * lds), r3 = Load(ref source, 3 * lds);
        Vector256<float> r4 = Load(ref source, 4 * lds), r5 = Load(ref source, 5 * lds), r6 = Load(ref source, 6 * lds), r7 = Load(ref source, 7 * lds);
        // Per 128-bit lane: (a0 b0 a1 b1), (a2 b2 a3 b3), ...
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // Per lane: (a0 b0 c0 d0), (a1 b1 c1 d1), ...
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        // Low lanes give columns 0–3, high lanes 4–7.
        Store(ref destination, 0, Avx.Permute2x128(s0, s4, 0x20));
        Store(ref destination, ldd, Avx.Permute2x128(s1, s5, 0x20));
        Store(ref destination, 2 * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Store(ref destination, 3 * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Store(ref destination, 4 * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Store(ref destination, 5 * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Store(ref destination, 6 * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Store(ref destination, 7 * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(ref float source, nint offset) => Vector256.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float destination, nint offset, Vector256<float> value) => value.StoreUnsafe(ref destination, (nuint)offset);
}
