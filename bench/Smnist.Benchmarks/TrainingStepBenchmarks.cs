using BenchmarkDotNet.Attributes;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Benchmarks;

/// <summary>
/// One whole training step (forward, backpropagation through time, Adam) at batch 32, hidden 128, 28 rows of 28
/// pixels: on the naive reference kernels (the baseline), on the fast kernels on one thread, and as smnist trains,
/// with the batch split over two worker threads.
/// </summary>
public class TrainingStepBenchmarks
{
    private const int Batch = 32;

    private readonly SequenceLayout _rows = SequenceLayout.Create(SequenceView.Rows);
    private SequenceClassifier<float> _model = null!;
    private Workspace<float> _workspace = null!;
    private PackedGateWeights _packed = null!;
    private float[] _gradient = null!;
    private int[] _labels = null!;
    private Adam _adam = null!;
    private BatchRunner _twoWorkers = null!;
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
        _loader = new BatchLoader(new MnistSource(new ImageSet(images, labels), _rows), Batch, shuffle: false, seed: 1);
        _batch = _loader.Epoch(0).First();

        _model = SequenceClassifier<float>.Initialize(new ModelConfig(_rows.Features, 128), seed: 1);
        _workspace = new Workspace<float>(_model.Config, _rows.Steps, Batch);
        _batch.InputSpan.CopyTo(_workspace.Inputs);
        _labels = _batch.LabelSpan.ToArray();
        _packed = new PackedGateWeights(_model.Config);
        _gradient = new float[_model.Layout.Count];
        _adam = new Adam(_model.Layout.Count);
        _twoWorkers = new BatchRunner(_model, _rows.Steps, Batch, threads: 2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _twoWorkers.Dispose();
        _loader.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void NaiveKernels()
    {
        _model.Kernels = KernelSet.Reference;
        try
        {
            OneThreadStep(packed: null);
        }
        finally
        {
            _model.Kernels = KernelSet.Fast;
        }
    }

    [Benchmark]
    public void FastKernelsOneThread() => OneThreadStep(_packed);

    [Benchmark]
    public void FastKernelsTwoWorkers()
    {
        _twoWorkers.TrainStep(_batch);
        _twoWorkers.Update(_adam, 1e-3f, clipNorm: null);
    }

    private void OneThreadStep(PackedGateWeights? packed)
    {
        packed?.Pack(_model);
        _model.Forward(_workspace, Batch, packed);
        _model.Backward(_workspace, _labels, 1f / Batch, _gradient, packed);
        _adam.Update(_model.Parameters, _gradient, 1e-3f);
    }
}
