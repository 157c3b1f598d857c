using Smnist.Kernels;
using Xunit.Abstractions;

namespace Smnist.Tests.Kernels;

public sealed class GemmTests(ITestOutputHelper output)
{
    private static readonly int[] Depths = [1, 2, 3, 7, 28, 29, 128, 133, 257, 512];

    /// <summary>One product: operands embedded in larger arrays (offsets, stride gaps, NaN guards) so stray reads and writes show.</summary>
    private sealed class Case
    {
        private const float Guard = float.NaN;
        private const float CGuard = -12345f;

        public Case(Random random, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, bool strided)
        {
            (M, N, K, TransposeA, TransposeB, Accumulate) = (m, n, k, transposeA, transposeB, accumulate);
            Lda = (transposeA ? m : k) + (strided ? random.Next(1, 4) : 0);
            Ldb = (transposeB ? k : n) + (strided ? random.Next(1, 4) : 0);
            Ldc = n + (strided ? random.Next(1, 4) : 0);
            A = Embed(random, transposeA ? k : m, transposeA ? m : k, Lda, strided, Guard, out AOffset, out ALength);
            B = Embed(random, transposeB ? n : k, transposeB ? k : n, Ldb, strided, Guard, out BOffset, out BLength);
            COld = Embed(random, m, n, Ldc, strided, CGuard, out COffset, out CLength);
        }

        public int M, N, K, Lda, Ldb, Ldc, AOffset, ALength, BOffset, BLength, COffset, CLength;
        public bool TransposeA, TransposeB, Accumulate;
        public float[] A, B, COld;

        public ReadOnlySpan<float> ASpan => A.AsSpan(AOffset, ALength);
        public ReadOnlySpan<float> BSpan => B.AsSpan(BOffset, BLength);

        public override string ToString() =>
            $"m={M} n={N} k={K} tA={TransposeA} tB={TransposeB} acc={Accumulate} lda={Lda} ldb={Ldb} ldc={Ldc}";

        /// <summary>A (rows, cols) matrix, stride ld, at a random offset, filled around with guards; the span ends at the last element.</summary>
        private static float[] Embed(Random random, int rows, int cols, int ld, bool strided, float guard, out int offset, out int length)
        {
            offset = strided ? random.Next(1, 6) : 0;
            length = rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
            var data = new float[offset + length + 7];
            Array.Fill(data, guard);
            for (int r = 0; r < rows; r++)
            {
                for (int col = 0; col < cols; col++)
                {
                    data[offset + r * ld + col] = (float)(random.NextDouble() * 2 - 1);
                }
            }
            return data;
        }

        public float[] Run(bool fast)
        {
            float[] c = (float[])COld.Clone();
            var cSpan = c.AsSpan(COffset, CLength);
            if (fast)
            {
                Gemm.Multiply(cSpan, Ldc, ASpan, Lda, TransposeA, BSpan, Ldb, TransposeB, M, N, K, Accumulate);
            }
            else
            {
                GemmReference.Multiply(cSpan, Ldc, ASpan, Lda, TransposeA, BSpan, Ldb, TransposeB, M, N, K, Accumulate);
            }
            return c;
        }

        public float[] RunPacked()
        {
            float[] c = (float[])COld.Clone();
            var packed = new PackedMatrix(K, N);
            Gemm.Pack(packed, BSpan, Ldb, TransposeB);
            Gemm.Multiply(c.AsSpan(COffset, CLength), Ldc, ASpan, Lda, TransposeA, packed, M, Accumulate);
            return c;
        }

        /// <summary>Compares a result with the reference within 1e-5 of Σ|a||b| (+|c| when accumulating); everything else untouched.</summary>
        public void Check(float[] actual, float[] expected)
        {
            for (int index = 0; index < actual.Length; index++)
            {
                int relative = index - COffset;
                int i = relative / Ldc;
                int j = relative % Ldc;
                bool addressed = relative >= 0 && i < M && j < N && relative < CLength;
                if (!addressed)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(actual[index]) == BitConverter.SingleToInt32Bits(COld[index]),
                                $"{this}: wrote outside C at {index}");
                    continue;
                }
                double scale = Accumulate ? Math.Abs(COld[index]) : 0;
                for (int p = 0; p < K; p++)
                {
                    float aip = TransposeA ? A[AOffset + p * Lda + i] : A[AOffset + i * Lda + p];
                    float bpj = TransposeB ? B[BOffset + j * Ldb + p] : B[BOffset + p * Ldb + j];
                    scale += Math.Abs((double)aip * bpj);
                }
                double error = Math.Abs((double)actual[index] - expected[index]);
                Assert.True(error <= 1e-5 * scale + 1e-30, $"{this}: C[{i},{j}] = {actual[index]}, reference {expected[index]}");
            }
        }
    }

    /// <summary>Run by tools/kernel-tiers.sh, which names the tier each of its runs must get; skipped (and shown as skipped) otherwise.</summary>
    [Trait("Category", "unit")]
    [TierFact]
    public void RunsTheExpectedTier()
    {
        output.WriteLine($"Gemm tier: {Gemm.Tier}, panel width {Gemm.PanelWidth}");
        Assert.Equal(TierFactAttribute.ExpectedTier, Gemm.Tier);
    }

    [Trait("Category", "slow")]
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void MatchesReferenceForEverySmallShape(bool transposeA, bool transposeB)
    {
        var random = new Random(1000 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0));
        int caseIndex = 0;
        for (int m = 1; m <= 40; m++)
        {
            for (int n = 1; n <= 40; n++)
            {
                int k = Depths[caseIndex % 8]; // up to 133: every tile position, both loads of C
                var test = new Case(random, m, n, k, transposeA, transposeB, accumulate: caseIndex % 3 == 0, strided: caseIndex % 2 == 0);
                test.Check(test.Run(fast: true), test.Run(fast: false));
                caseIndex++;
            }
        }
    }

    [Trait("Category", "slow")]
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void MatchesReferenceAcrossBlockBoundaries(bool transposeA, bool transposeB)
    {
        var random = new Random(2000 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0));
        // Around the tiles (6, 8 rows; 8, 16, 32 columns), the row blocks (96, 128) and the column block (512).
        int[] rows = [5, 16, 31, 97, 129];
        int[] columns = [9, 33, 47, 128, 513];
        foreach (int k in Depths)
        {
            foreach (int m in rows)
            {
                foreach (int n in columns)
                {
                    if ((long)m * n * k > 1_500_000)
                    {
                        continue; // the reference is slow; the depth blocks are covered by smaller faces
                    }
                    bool accumulate = (m + n + k) % 2 == 0;
                    var test = new Case(random, m, n, k, transposeA, transposeB, accumulate, strided: true);
                    test.Check(test.Run(fast: true), test.Run(fast: false));
                }
            }
        }
    }

    [Trait("Category", "unit")]
    [Theory]
    [InlineData(32, 512, 128, false, true, true)]  // recurrent gates: C (B, 4n) += V (B, n) · Wvᵀ
    [InlineData(32, 128, 512, false, false, false)] // backward: dV (B, n) = dG (B, 4n) · Wv (4n, n)
    [InlineData(16, 512, 28, false, true, false)]  // input projection, half batch
    [InlineData(10, 128, 32, true, false, true)]   // readout gradient dR (10, n) += dLogitsᵀ · V
    [InlineData(512, 1, 300, true, false, true)]   // weight gradient with d = 1
    public void PackedMatchesUnpackedBitForBit(int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        var test = new Case(new Random(m * n + k), m, n, k, transposeA, transposeB, accumulate, strided: true);
        float[] unpacked = test.Run(fast: true);
        float[] packed = test.RunPacked();
        Assert.Equal(unpacked, packed);
        test.Check(packed, test.Run(fast: false));
    }

    /// <summary>
    /// A last tile of fewer rows than the micro-kernel's (read in place, several column tiles at once for one to
    /// three rows) gives each of its rows the same bits as the same row inside a product of whole tiles, since each
    /// element is one multiply-add chain in depth order; and it writes nothing beyond its rows.
    /// </summary>
    [Trait("Category", "unit")]
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void FewLastRowsGiveTheBitsOfWholeTiles(bool transposeA, bool accumulate)
    {
        const int wholeRows = 24; // whole tiles on every tier (8, 6 and 4 rows)
        var random = new Random(transposeA ? 31 : 37);
        foreach (int k in (int[])[1, 29, 136, 300])
        {
            foreach (int n in (int[])[8, 40, 64, 100, 128, 160, 512])
            {
                int lda = transposeA ? wholeRows : k;
                float[] a = RandomValues(random, wholeRows * k);  // (24, k), or (k, 24) transposed
                float[] b = RandomValues(random, k * n);          // (n, k): op(B) transposed, as the gate weight
                float[] c0 = RandomValues(random, wholeRows * n); // (24, n)
                var packed = new PackedMatrix(k, n);
                Gemm.Pack(packed, b, k, transposeB: true);
                float[] whole = (float[])c0.Clone();
                Gemm.Multiply(whole, n, a, lda, transposeA, packed, wholeRows, accumulate);
                for (int m = 1; m < wholeRows; m++)
                {
                    float[] few = (float[])c0.Clone();
                    Gemm.Multiply(few, n, a, lda, transposeA, packed, m, accumulate);
                    Assert.True(few.AsSpan(0, m * n).SequenceEqual(whole.AsSpan(0, m * n)), $"m={m} n={n} k={k}: rows differ from whole tiles");
                    Assert.True(few.AsSpan(m * n).SequenceEqual(c0.AsSpan(m * n)), $"m={m} n={n} k={k}: wrote below its rows");
                }
            }
        }
    }

    private static float[] RandomValues(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();

    [Trait("Category", "unit")]
    [Fact]
    public void ResultsDoNotDependOnAlignment()
    {
        const int m = 19, n = 45, k = 133;
        var random = new Random(7);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[]? first = null;
        for (int shift = 0; shift < 16; shift++)
        {
            float[] aShifted = new float[shift + a.Length];
            float[] bShifted = new float[shift + b.Length];
            float[] c = new float[shift + m * n];
            a.CopyTo(aShifted, shift);
            b.CopyTo(bShifted, shift);
            Gemm.Multiply(c.AsSpan(shift), n, aShifted.AsSpan(shift), k, false, bShifted.AsSpan(shift), n, false, m, n, k, false);
            float[] result = c[shift..];
            first ??= result;
            Assert.Equal(first, result);
        }
    }

    [Trait("Category", "unit")]
    [Fact]
    public void EmptyDepthClearsOrKeepsC()
    {
        float[] c = [1f, 2f, 3f, 4f];
        Gemm.Multiply(c, 2, [], 0, false, [], 2, false, 2, 2, 0, accumulate: true);
        Assert.Equal([1f, 2f, 3f, 4f], c);
        Gemm.Multiply(c, 2, [], 0, false, [], 2, false, 2, 2, 0, accumulate: false);
        Assert.Equal([0f, 0f, 0f, 0f], c);
    }

    [Trait("Category", "unit")]
    [Fact]
    public void RejectsSpansTooShortForTheShape()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(c, 2, a, 3, false, b, 3, false, 2, 2, 3, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(c, 2, a.AsSpan(1), 3, false, b, 2, false, 2, 2, 3, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(c, 2, a, 2, false, b, 2, false, 2, 2, 3, false));
        Assert.Throws<ArgumentException>(() => GemmReference.Multiply(c.AsSpan(1), 2, a, 3, false, b, 2, false, 2, 2, 3, false));
    }

    [Trait("Category", "unit")]
    [Fact]
    public void AllocatesNothingAfterWarmUp()
    {
        const int batch = 32, hidden = 128, input = 28;
        float[] gates = new float[batch * 4 * hidden];         // (B, 4n)
        float[] v = new float[batch * hidden];                 // (B, n)
        float[] weights = new float[4 * hidden * (hidden + input)]; // (4n, n + d)
        var packed = new PackedMatrix(hidden, 4 * hidden);

        void Step()
        {
            Gemm.Multiply(gates, 4 * hidden, v, hidden, false, weights, hidden + input, true, batch, 4 * hidden, hidden, true);
            Gemm.Pack(packed, weights, hidden + input, true);
            Gemm.Multiply(gates, 4 * hidden, v, hidden, false, packed, batch, true);
            Gemm.Multiply(v, hidden, gates, 4 * hidden, false, weights, hidden + input, false, batch, hidden, 4 * hidden, false);
            Activations.Sigmoid(gates, gates);
            Activations.Tanh(gates, gates);
        }

        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            Step();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
