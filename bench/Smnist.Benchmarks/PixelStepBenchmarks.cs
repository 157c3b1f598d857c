using BenchmarkDotNet.Attributes;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// One whole training step at 784 steps of one pixel (batch 32, hidden 128): on one thread, and as smnist trains, with
/// the batch split over two worker threads. (The naive-kernel baseline of <see cref="TrainingStepBenchmarks"/> would
/// take seconds per step here.)
/// </summary>
public class PixelStepBenchmarks
{
    private const int Batch = 32;

    private readonly SequenceLayout _pixels = SequenceLayout.Create(SequenceView.Pixels);
    private SequenceClassifier<float> _model = null!;
    private BatchRunner _oneWorker = null!;
    private BatchRunner _twoWorkers = null!;
    private Adam _adam = null!;
    private BatchLoader _loader = null!;
    private Batch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var images = new byte[Batch * ImageSet.Pixels];
        var labels = new byte[Batch];
        random.NextBytes(images);
        for (int k = 0; k < Batch; k++)
            labels[k] = (byte)random.Next(ImageSet.Classes);
        _loader = new BatchLoader(new MnistSource(new ImageSet(images, labels), _pixels), Batch, shuffle: false, seed: 1);
        _batch = _loader.Epoch(0).First();
        _model = SequenceClassifier<float>.Initialize(new ModelConfig(_pixels.Features, 128), seed: 1, forgetBias: 1);
        _adam = new Adam(_model.Layout.Count);
        _oneWorker = new BatchRunner(_model, _pixels.Steps, Batch, threads: 1);
        _twoWorkers = new BatchRunner(_model, _pixels.Steps, Batch, threads: 2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oneWorker.Dispose();
        _twoWorkers.Dispose();
        _loader.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void OneThread() => Step(_oneWorker);

    [Benchmark]
    public void TwoWorkers() => Step(_twoWorkers);

    private void Step(BatchRunner runner)
    {
        runner.TrainStep(_batch);
        runner.Update(_adam, 1e-3f, clipNorm: null);
    }
}
