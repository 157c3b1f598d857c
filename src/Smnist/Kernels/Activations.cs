using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Smnist.Kernels;

/// <summary>
/// Vectorised element-wise activations, within 2e-6 absolute (a few ulp relative) of <see cref="ActivationsReference"/>.
/// <c>y</c> may be <c>x</c> itself (in place) but must not otherwise overlap it. No allocation. Vector512 where
/// accelerated, otherwise <see cref="Vector{T}"/> (256, 128 bits or software). NaN in, NaN out (the clamps use the
/// platform's fast min/max, which drop NaN, so NaN lanes are restored at the end).
/// </summary>
internal static class Activations
{
    /// <summary>y = 1 / (1 + e^-x), element-wise.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        ActivationsReference.RequireOutput(x, y);
        Map<SigmoidFunction>(x, y);
    }

    /// <summary>y = tanh(x), element-wise.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        ActivationsReference.RequireOutput(x, y);
        Map<TanhFunction>(x, y);
    }

    /// <summary>x·y + z, fused where the hardware fuses (a software fused multiply-add would be far slower).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> MulAdd(Vector<float> x, Vector<float> y, Vector<float> z) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector.FusedMultiplyAdd(x, y, z) : x * y + z;

    internal interface IVectorFunction
    {
        static abstract Vector512<float> Apply(Vector512<float> x);

        static abstract Vector<float> Apply(Vector<float> x);
    }

    private static void Map<TFunction>(ReadOnlySpan<float> x, Span<float> y)
        where TFunction : struct, IVectorFunction
    {
        if (Vector512.IsHardwareAccelerated)
            Map512<TFunction>(x, y);
        else
            MapVector<TFunction>(x, y);
    }

    private static void Map512<TFunction>(ReadOnlySpan<float> x, Span<float> y)
        where TFunction : struct, IVectorFunction
    {
        const int width = 16;
        int length = x.Length;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        if (length < width)
        {
            // Short input: run the same vector code on a padded copy, so every element takes the same arithmetic.
            Span<float> buffer = stackalloc float[width];
            x.CopyTo(buffer);
            TFunction.Apply(Vector512.Create<float>(buffer)).CopyTo(buffer);
            buffer[..length].CopyTo(y);
            return;
        }
        // The last, possibly overlapping, vector is read before anything is written, so in-place use stays correct.
        Vector512<float> last = TFunction.Apply(Vector512.LoadUnsafe(ref source, (nuint)(length - width)));
        for (int i = 0; i <= length - width; i += width)
            TFunction.Apply(Vector512.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref destination, (nuint)i);
        last.StoreUnsafe(ref destination, (nuint)(length - width));
    }

    private static void MapVector<TFunction>(ReadOnlySpan<float> x, Span<float> y)
        where TFunction : struct, IVectorFunction
    {
        int width = Vector<float>.Count;
        int length = x.Length;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        if (length < width)
        {
            Span<float> buffer = stackalloc float[Vector<float>.Count];
            x.CopyTo(buffer);
            TFunction.Apply(new Vector<float>(buffer)).CopyTo(buffer);
            buffer[..length].CopyTo(y);
            return;
        }
        Vector<float> last = TFunction.Apply(Vector.LoadUnsafe(ref source, (nuint)(length - width)));
        for (int i = 0; i <= length - width; i += width)
            TFunction.Apply(Vector.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref destination, (nuint)i);
        last.StoreUnsafe(ref destination, (nuint)(length - width));
    }

    /// <summary>
    /// 1 / (1 + e^-x) with a Cephes-style e^t: t = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r and
    /// 2^n built in the exponent bits. t is clamped so 2^n stays a normal float; the sigmoid saturates anyway.
    /// </summary>
    internal readonly struct SigmoidFunction : IVectorFunction
    {
        private const float MaxT = 88.3762626647949f, MinT = -87.3365447504019f;
        private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
        private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
        private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x)
        {
            Vector512<float> t = Vector512.MinNative(Vector512.MaxNative(-x, Vector512.Create(MinT)), Vector512.Create(MaxT));
            Vector512<float> n = Vector512.Round(t * Vector512.Create(Log2E));
            Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), t);
            r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
            Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
            p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One); // e^r
            Vector512<float> scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle(); // 2^n
            Vector512<float> y = Vector512<float>.One / Vector512.FusedMultiplyAdd(p, scale, Vector512<float>.One);
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x); // NaN stays NaN
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Apply(Vector<float> x)
        {
            Vector<float> t = Vector.MinNative(Vector.MaxNative(-x, new Vector<float>(MinT)), new Vector<float>(MaxT));
            Vector<float> n = Vector.Round(t * Log2E);
            Vector<float> r = MulAdd(n, new Vector<float>(-Ln2Hi), t);
            r = MulAdd(n, new Vector<float>(-Ln2Lo), r);
            Vector<float> p = MulAdd(new Vector<float>(P0), r, new Vector<float>(P1));
            p = MulAdd(p, r, new Vector<float>(P2));
            p = MulAdd(p, r, new Vector<float>(P3));
            p = MulAdd(p, r, new Vector<float>(P4));
            p = MulAdd(p, r, new Vector<float>(P5));
            p = MulAdd(p, r * r, r + Vector<float>.One);
            Vector<float> scale = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23));
            Vector<float> y = Vector<float>.One / MulAdd(p, scale, Vector<float>.One);
            return Vector.ConditionalSelect(Vector.Equals(x, x), y, x);
        }
    }

    /// <summary>
    /// tanh(x) as x·P(x²)/Q(x²), a [13/6] rational approximation (as in Eigen's fast tanh), clamped to ±7.9053
    /// where tanh already rounds to within 3e-7 of ±1.
    /// </summary>
    internal readonly struct TanhFunction : IVectorFunction
    {
        private const float Clamp = 7.90531110763549805f;
        private const float A1 = 4.89352455891786e-03f, A3 = 6.37261928875436e-04f, A5 = 1.48572235717979e-05f;
        private const float A7 = 5.12229709037114e-08f, A9 = -8.60467152213735e-11f, A11 = 2.00018790482477e-13f;
        private const float A13 = -2.76076847742355e-16f;
        private const float B0 = 4.89352518554385e-03f, B2 = 2.26843463243900e-03f, B4 = 1.18534705686654e-04f;
        private const float B6 = 1.19825839466702e-06f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> x)
        {
            Vector512<float> z = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(-Clamp)), Vector512.Create(Clamp));
            Vector512<float> x2 = z * z;
            Vector512<float> p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A13), Vector512.Create(A11));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A9));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A7));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
            Vector512<float> q = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B6), Vector512.Create(B4));
            q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B2));
            q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B0));
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), z * p / q, x);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Apply(Vector<float> x)
        {
            Vector<float> z = Vector.MinNative(Vector.MaxNative(x, new Vector<float>(-Clamp)), new Vector<float>(Clamp));
            Vector<float> x2 = z * z;
            Vector<float> p = MulAdd(x2, new Vector<float>(A13), new Vector<float>(A11));
            p = MulAdd(x2, p, new Vector<float>(A9));
            p = MulAdd(x2, p, new Vector<float>(A7));
            p = MulAdd(x2, p, new Vector<float>(A5));
            p = MulAdd(x2, p, new Vector<float>(A3));
            p = MulAdd(x2, p, new Vector<float>(A1));
            Vector<float> q = MulAdd(x2, new Vector<float>(B6), new Vector<float>(B4));
            q = MulAdd(x2, q, new Vector<float>(B2));
            q = MulAdd(x2, q, new Vector<float>(B0));
            return Vector.ConditionalSelect(Vector.Equals(x, x), z * p / q, x);
        }
    }
}
