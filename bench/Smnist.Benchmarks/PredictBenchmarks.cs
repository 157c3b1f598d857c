using BenchmarkDotNet.Attributes;
using Smnist.Cli;
using Smnist.Data;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// Predicting one image with a shipped model, on one thread, as a program calling the library does: the
/// <see cref="Predictor"/> call (what <c>smnist predict</c> makes per image) and a <see cref="ReadingTrace"/> given no
/// packed weights, reading image after image (what <c>smnist explain</c> makes).
/// </summary>
[MemoryDiagnoser, MinColumn]
public class PredictBenchmarks
{
    private ModelChoice _model = null!;
    private ReadingTrace _trace = null!;
    private byte[] _image = null!;

    [Params("mnist-rows", "mnist-pixels")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _model = ShippedModels.Load(Model);
        _trace = new ReadingTrace(_model.Loaded.Model, _model.Loaded.Sequence);
        _image = new byte[ImageSet.Pixels]; // a one: a bar of ink down the middle
        for (int row = 4; row < 24; row++)
            _image.AsSpan(row * 28 + 12, 4).Fill(255);
    }

    [Benchmark(Description = "Predictor.Probabilities")]
    public float Predict() => Predictor.Probabilities(_model.Loaded.Model, _model.Loaded.Sequence, _image)[1];

    [Benchmark(Description = "ReadingTrace.Read, no packed weights")]
    public int Trace()
    {
        _trace.Read(_image);
        return _trace.Digit;
    }
}
