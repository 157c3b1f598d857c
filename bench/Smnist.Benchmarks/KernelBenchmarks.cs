using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Smnist.Kernels;

namespace Smnist.Benchmarks;

/// <summary>
/// The matrix products of one LSTM training step at batch 32, hidden 128, input 28, 28 timesteps: fast kernel
/// (unpacked and with the weight packed beforehand) against the naive baseline, one category per shape.
/// The GFLOP/s column is 2·m·n·k / mean time (the packing-only row has no flops).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(GflopsConfig))]
public class GemmKernelBenchmarks
{
    private const int Batch = 32, Hidden = 128, Input = 28, Steps = 28;
    private const int Gates = 4 * Hidden, Ld = Hidden + Input;

    /// <summary>2·m·n·k of each category's product.</summary>
    private static readonly Dictionary<string, double> FlopsByCategory = new()
    {
        ["1 input projection"] = 2.0 * Steps * Batch * Gates * Input,
        ["2 recurrent"] = 2.0 * Batch * Gates * Hidden,
        ["3 backward"] = 2.0 * Batch * Hidden * Gates,
        ["4 weight gradient"] = 2.0 * Gates * Hidden * Steps * Batch,
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
    }

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
