using BenchmarkDotNet.Attributes;
using Smnist.Cli;
using Smnist.Data;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// Predicting one image with a shipped model, on one thread, as a program calling the library does: the
/// <see cref="Predictor"/> call (what <c>smnist predict</c> makes per image), a <see cref="ReadingTrace"/> given no
/// packed weights, reading image after image (what <c>smnist explain</c> makes), and the image's steps streamed
/// through a <see cref="StreamingReader"/> given no packed weights.
/// </summary>
[MemoryDiagnoser, MinColumn]
public class PredictBenchmarks
{
    private ModelChoice _model = null!;
    private ReadingTrace _trace = null!;
    private StreamingReader _reader = null!;
    private byte[] _image = null!;
    private float[] _steps = null!; // (T, d) the image in the model's view

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
        _reader = new StreamingReader(_model.Loaded.Model);
        _steps = new float[ImageSet.Pixels];
        _model.Loaded.Sequence.Pack(_image, size: 1, _steps);
    }

    [Benchmark(Description = "Predictor.Probabilities")]
    public float Predict() => Predictor.Probabilities(_model.Loaded.Model, _model.Loaded.Sequence, _image)[1];

    [Benchmark(Description = "ReadingTrace.Read, no packed weights")]
    public int Trace()
    {
        _trace.Read(_image);
        return _trace.Digit;
    }

    [Benchmark(Description = "StreamingReader, every step, no packed weights")]
    public float Stream()
    {
        int features = _model.Loaded.Sequence.Features;
        _reader.Reset();
        float last = 0;
        for (int t = 0; t < _steps.Length / features; t++)
            last = _reader.Step(_steps.AsSpan(t * features, features))[1];
        return last;
    }
}
