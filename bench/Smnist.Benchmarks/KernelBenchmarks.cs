using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Smnist.Kernels;

namespace Smnist.Benchmarks;

/// <summary>
/// The matrix products of one LSTM training step at batch 32, hidden 128, input 28, 28 timesteps: fast kernel
/// (unpacked and with the weight packed beforehand) against the naive baseline, one category per shape; the
/// products of a 784-step pixel step as one of two workers does them (16 rows, input 1); and, as the ceiling they
/// are measured against, the core's peak: independent fused multiply-adds on registers alone.
/// The GFLOP/s column is 2·m·n·k / mean time (the packing-only row has no flops).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(GflopsConfig))]
public class GemmKernelBenchmarks
{
    private const int Batch = 32, Hidden = 128, Input = 28, Steps = 28;
    private const int Gates = 4 * Hidden, Ld = Hidden + Input;

    /// <summary>Floating-point operations of each category's benchmark: 2·m·n·k for a product, 2 per lane for each multiply-add of the peak.</summary>
    private static readonly Dictionary<string, double> FlopsByCategory = new()
    {
        ["0 FMA peak"] = FmaPeak.FlopsPerIteration * PeakIterations,
        ["1 input projection"] = 2.0 * Steps * Batch * Gates * Input,
        ["2 recurrent"] = 2.0 * Batch * Gates * Hidden,
        ["3 backward"] = 2.0 * Batch * Hidden * Gates,
        ["4 weight gradient"] = 2.0 * Gates * Hidden * Steps * Batch,
        ["5 pixel chunk, one worker"] = 2.0 * PixelChunkRows * Gates * (2 * PixelColumns + Hidden),
    };

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new GflopsColumn());
    }

    private sealed class GflopsColumn : IColumn
    {
        public string Id => nameof(GflopsColumn);
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "2·m·n·k / mean time";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            bool packOnly = benchmarkCase.Descriptor.WorkloadMethod.Name.EndsWith("PackOnly", StringComparison.Ordinal);
            string category = benchmarkCase.Descriptor.Categories.FirstOrDefault() ?? "";
            if (statistics is null || packOnly || !FlopsByCategory.TryGetValue(category, out double flops))
            {
                return "-";
            }
            return (flops / statistics.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture); // flops per ns = GFLOP/s
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }

    /// <summary>A worker's rows at batch 32 on two threads, and the gate product's depth at one pixel per step, n+1.</summary>
    private const int PixelRows = 16, PixelColumns = Hidden + 1;

    /// <summary>
    /// Chunk of timesteps whose gate gradients make one weight-gradient product: 16 rows each, 256 rows in all (as in training).
    /// </summary>
    private const int PixelChunkRows = 256;

    private const int PeakIterations = 100_000;

    private readonly float[] _weights = Filled(Gates * Ld, 1);             // (4n, n + d): columns 0..n-1 act on v, n.. on x
    private readonly float[] _x = Filled(Steps * Batch * Input, 2);         // (T·B, d)
    private readonly float[] _projection = new float[Steps * Batch * Gates]; // (T·B, 4n)
    private readonly float[] _v = Filled(Batch * Hidden, 3);                // (B, n)
    private readonly float[] _gates = Filled(Batch * Gates, 4);             // (B, 4n)
    private readonly float[] _dV = new float[Batch * Hidden];               // (B, n)
    private readonly float[] _dG = Filled(Steps * Batch * Gates, 5);        // (T·B, 4n)
    private readonly float[] _vPrev = Filled(Steps * Batch * Hidden, 6);    // (T·B, n)
    private readonly float[] _dW = new float[Gates * Ld];                   // (4n, n + d)
    private readonly PackedMatrix _recurrentPacked = new(Hidden, Gates);    // Wvᵀ: (n, 4n)
    private readonly PackedMatrix _backwardPacked = new(Gates, Hidden);     // Wv: (4n, n)
    private readonly float[] _pixelWeights = Filled(Gates * PixelColumns, 7);          // (4n, n+1)
    private readonly float[] _pixelZ = Filled(PixelChunkRows * PixelColumns, 8);       // (256, n+1) z_t rows of 16 timesteps
    private readonly float[] _pixelGates = new float[PixelRows * Gates];               // (16, 4n)
    private readonly float[] _pixelGateGrad = Filled(PixelChunkRows * Gates, 9);       // (256, 4n) their gate gradients
    private readonly float[] _pixelStateGrad = new float[PixelRows * Hidden];          // (16, n)
    private readonly float[] _pixelWeightGradT = new float[PixelColumns * Gates];      // (n+1, 4n)
    private readonly PackedMatrix _pixelForwardPacked = new(PixelColumns, Gates);      // Wᵀ: (n+1, 4n)
    private readonly PackedMatrix _pixelBackwardPacked = new(Gates, Hidden);           // W's first n columns: (4n, n)

    private static float[] Filled(int length, int seed)
    {
        var random = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() - 0.5);
        }
        return data;
    }

    [GlobalSetup]
    public void Setup()
    {
        Gemm.Pack(_recurrentPacked, _weights, Ld, transposeB: true);
        Gemm.Pack(_backwardPacked, _weights, Ld, transposeB: false);
        Gemm.Pack(_pixelForwardPacked, _pixelWeights, PixelColumns, transposeB: true);
        Gemm.Pack(_pixelBackwardPacked, _pixelWeights, PixelColumns, transposeB: false);
    }

    // 0. The ceiling: the library's probe, independent multiply-add chains on registers at the widest accelerated width.
    [Benchmark, BenchmarkCategory("0 FMA peak")]
    public float FmaPeakChains() => FmaPeak.Run(PeakIterations);

    // 1. Input projection of all timesteps: (T·B, 4n) = X (T·B, d) · Wxᵀ.
    [Benchmark(Baseline = true), BenchmarkCategory("1 input projection")]
    public void InputProjectionNaive() =>
        GemmReference.Multiply(_projection, Gates, _x, Input, false, _weights.AsSpan(Hidden), Ld, true, Steps * Batch, Gates, Input, false);

    [Benchmark, BenchmarkCategory("1 input projection")]
    public void InputProjectionFast() =>
        Gemm.Multiply(_projection, Gates, _x, Input, false, _weights.AsSpan(Hidden), Ld, true, Steps * Batch, Gates, Input, false);

    // 2. Recurrent gates per timestep: (B, 4n) += V (B, n) · Wvᵀ.
    [Benchmark(Baseline = true), BenchmarkCategory("2 recurrent")]
    public void RecurrentNaive() =>
        GemmReference.Multiply(_gates, Gates, _v, Hidden, false, _weights, Ld, true, Batch, Gates, Hidden, true);

    [Benchmark, BenchmarkCategory("2 recurrent")]
    public void RecurrentFast() =>
        Gemm.Multiply(_gates, Gates, _v, Hidden, false, _weights, Ld, true, Batch, Gates, Hidden, true);

    [Benchmark, BenchmarkCategory("2 recurrent")]
    public void RecurrentFastPrepacked() =>
        Gemm.Multiply(_gates, Gates, _v, Hidden, false, _recurrentPacked, Batch, true);

    [Benchmark, BenchmarkCategory("2 recurrent")]
    public void RecurrentPackOnly() => Gemm.Pack(_recurrentPacked, _weights, Ld, transposeB: true);

    // 3. Backward per timestep: dV (B, n) = dG (B, 4n) · Wv (4n, n).
    [Benchmark(Baseline = true), BenchmarkCategory("3 backward")]
    public void BackwardNaive() =>
        GemmReference.Multiply(_dV, Hidden, _dG, Gates, false, _weights, Ld, false, Batch, Hidden, Gates, false);

    [Benchmark, BenchmarkCategory("3 backward")]
    public void BackwardFast() =>
        Gemm.Multiply(_dV, Hidden, _dG, Gates, false, _weights, Ld, false, Batch, Hidden, Gates, false);

    [Benchmark, BenchmarkCategory("3 backward")]
    public void BackwardFastPrepacked() =>
        Gemm.Multiply(_dV, Hidden, _dG, Gates, false, _backwardPacked, Batch, false);

    // 4. Weight gradient after the sweep: dWv (4n, n) += dGᵀ (4n, T·B) · Vprev (T·B, n).
    [Benchmark(Baseline = true), BenchmarkCategory("4 weight gradient")]
    public void WeightGradientNaive() =>
        GemmReference.Multiply(_dW, Ld, _dG, Gates, true, _vPrev, Hidden, false, Gates, Hidden, Steps * Batch, true);

    [Benchmark, BenchmarkCategory("4 weight gradient")]
    public void WeightGradientFast() =>
        Gemm.Multiply(_dW, Ld, _dG, Gates, true, _vPrev, Hidden, false, Gates, Hidden, Steps * Batch, true);

    // 5. One chunk of a pixel step's products as one worker (16 rows) runs them: for each of its 16 timesteps the gate
    //    product (16, 4n) = z (16, n+1) · Wᵀ and the state gradient (16, n) = dG (16, 4n) · W; then the chunk's weight
    //    gradient (n+1, 4n) += zᵀ (n+1, 256) · dG (256, 4n).
    [Benchmark, BenchmarkCategory("5 pixel chunk, one worker")]
    public void PixelChunkFast()
    {
        for (int t = 0; t < PixelChunkRows / PixelRows; t++)
        {
            Gemm.Multiply(_pixelGates, Gates, _pixelZ.AsSpan(t * PixelRows * PixelColumns), PixelColumns, false, _pixelForwardPacked, PixelRows, false);
            Gemm.Multiply(_pixelStateGrad, Hidden, _pixelGateGrad.AsSpan(t * PixelRows * Gates), Gates, false, _pixelBackwardPacked, PixelRows, false);
        }
        Gemm.Multiply(_pixelWeightGradT, Gates, _pixelZ, PixelColumns, true, _pixelGateGrad, Gates, false, PixelColumns, Gates, PixelChunkRows, true);
    }
}

/// <summary>Sigmoid and tanh over one timestep's gates (B, 4n) = 16,384 values: fast against scalar MathF.</summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ActivationKernelBenchmarks
{
    private readonly float[] _x = new float[32 * 512];
    private readonly float[] _y = new float[32 * 512];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] = (float)(random.NextDouble() * 16 - 8);
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("sigmoid")]
    public void SigmoidReference() => ActivationsReference.Sigmoid(_x, _y);

    [Benchmark, BenchmarkCategory("sigmoid")]
    public void SigmoidFast() => Activations.Sigmoid(_x, _y);

    [Benchmark(Baseline = true), BenchmarkCategory("tanh")]
    public void TanhReference() => ActivationsReference.Tanh(_x, _y);

    [Benchmark, BenchmarkCategory("tanh")]
    public void TanhFast() => Activations.Tanh(_x, _y);
}
