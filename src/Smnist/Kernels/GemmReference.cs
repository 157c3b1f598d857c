using System.Numerics;

namespace Smnist.Kernels;

/// <summary>
/// The naive matrix product: a plain triple loop in the element type's arithmetic. In float it is the baseline
/// that <see cref="Gemm"/> is tested and benchmarked against; in double it is the engine's product for the
/// gradient checks.
/// </summary>
internal static class GemmReference
{
    /// <summary>
    /// C (m, n) = op(A) (m, k) · op(B) (k, n), plus the old C when <paramref name="accumulate"/>.
    /// op(A) is A stored (m, k) with row stride <paramref name="lda"/>, or, when <paramref name="transposeA"/>,
    /// A stored (k, m); op(B) is B stored (k, n) with row stride <paramref name="ldb"/>, or, when
    /// <paramref name="transposeB"/>, B stored (n, k). All matrices are row-major.
    /// </summary>
    public static void Multiply<T>(Span<T> c, int ldc, ReadOnlySpan<T> a, int lda, bool transposeA,
                                   ReadOnlySpan<T> b, int ldb, bool transposeB, int m, int n, int k, bool accumulate)
        where T : IFloatingPointIeee754<T>
    {
        GemmShape.Validate(c.Length, ldc, a.Length, lda, transposeA, b.Length, ldb, transposeB, m, n, k);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T aip = transposeA ? a[p * lda + i] : a[i * lda + p];
                    T bpj = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += aip * bpj;
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
        }
    }
}
