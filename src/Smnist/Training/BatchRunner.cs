using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Kernels;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Runs a model over batches with the batch split between worker threads (data parallel): each worker owns a
/// workspace and a gradient buffer for its rows, and the gradients are summed in worker order afterwards, so a
/// given thread count always gives the same bits. A worker takes its rows in chunks of at most
/// <see cref="ChunkRows"/>, so that a large batch's activations stay in cache.
/// </summary>
internal sealed class BatchRunner : IWorkerJob, IDisposable
{
    /// <summary>Rows one forward/backward pass takes at a time: per sample, 16–32 rows ran fastest here.</summary>
    internal const int ChunkRows = 32;

    private readonly Workspace<float>[] _workspaces;
    private readonly float[][] _gradients;
    private readonly float[][] _chunkGradients;  // a later chunk's gradient, before it is added to the worker's
    private readonly double[] _losses;
    private readonly int[][] _confusions;
    private readonly WorkerPool _pool;
    private readonly PackedRecurrentWeights _packed;
    private Batch? _batch;
    private bool _withGradient;

    public BatchRunner(SequenceClassifier<float> model, int steps, int maxBatch, int threads)
    {
        Model = model;
        int workers = Math.Clamp(threads, 1, maxBatch);
        int rowsPerWorker = (maxBatch + workers - 1) / workers;
        _workspaces = new Workspace<float>[workers];
        _gradients = new float[workers][];
        _chunkGradients = new float[workers][];
        _confusions = new int[workers][];
        _losses = new double[workers];
        for (int w = 0; w < workers; w++)
        {
            _workspaces[w] = new Workspace<float>(model.Config, steps, Math.Min(rowsPerWorker, ChunkRows));
            _gradients[w] = new float[model.Layout.Count];
            _chunkGradients[w] = rowsPerWorker > ChunkRows ? new float[model.Layout.Count] : [];
            _confusions[w] = new int[model.Config.Classes * model.Config.Classes];
        }
        _packed = new PackedRecurrentWeights(model.Config);
        _pool = new WorkerPool(workers);
    }

    /// <summary>
    /// Bytes a runner for <paramref name="config"/> allocates (workspaces, gradients, packed weights), computed in
    /// 64-bit arithmetic before anything is allocated, so an impossible configuration is refused rather than crashing.
    /// </summary>
    public static long EstimateBytes(ModelConfig config, int steps, int maxBatch, int threads)
    {
        int workers = Math.Clamp(threads, 1, maxBatch);
        int rowsPerWorker = (maxBatch + workers - 1) / workers;
        long perWorker = Workspace<float>.Values(config, steps, Math.Min(rowsPerWorker, ChunkRows))
            + config.ParameterCount * (rowsPerWorker > ChunkRows ? 2 : 1);
        long packed = 2L * config.Layers * 4 * config.HiddenSize * (config.HiddenSize + Gemm.PanelWidth);
        return sizeof(float) * (workers * perWorker + packed);
    }

    public SequenceClassifier<float> Model { get; }

    public int Workers => _pool.Workers;

    /// <summary>Bytes allocated so far by the worker threads other than the caller's.</summary>
    internal long BackgroundAllocatedBytes => _pool.BackgroundAllocatedBytes;

    /// <summary>The gradient of the last <see cref="TrainStep"/>, laid out as the model's parameters.</summary>
    public float[] Gradient => _gradients[0];

    /// <summary>Forward and backward over <paramref name="batch"/>: returns the mean loss; the gradient of the mean lands in <see cref="Gradient"/>.</summary>
    public double TrainStep(Batch batch)
    {
        Run(batch, withGradient: true);
        float[] total = _gradients[0];
        for (int w = 1; w < Workers; w++)
        {
            if (Rows(w, batch.Size).Count > 0)
                TensorPrimitives.Add(total, _gradients[w], total);
        }
        return SumLosses() / batch.Size;
    }

    /// <summary>Forward over <paramref name="batch"/>, adding each row's (label, prediction) to <paramref name="confusion"/>; returns the summed loss.</summary>
    public double Evaluate(Batch batch, int[] confusion)
    {
        Run(batch, withGradient: false);
        foreach (int[] counts in _confusions)
        {
            for (int k = 0; k < counts.Length; k++)
            {
                confusion[k] += counts[k];
                counts[k] = 0;
            }
        }
        return SumLosses();
    }

    public void Execute(int worker)
    {
        Batch batch = _batch!;
        (int start, int rows) = Rows(worker, batch.Size);
        _losses[worker] = 0;
        for (int first = start; first < start + rows; first += ChunkRows)
            RunChunk(worker, batch, first, Math.Min(ChunkRows, start + rows - first), firstChunk: first == start);
    }

    /// <summary>Forward (and backward) over batch rows [first, first + rows) on <paramref name="worker"/>'s buffers.</summary>
    private void RunChunk(int worker, Batch batch, int first, int rows, bool firstChunk)
    {
        Workspace<float> workspace = _workspaces[worker];
        int features = batch.Features;
        // The chunk's rows of each timestep, gathered into the worker's own dense (T, rows, d) input.
        for (int t = 0; t < batch.Steps; t++)
        {
            batch.Inputs.AsSpan((t * batch.Size + first) * features, rows * features)
                .CopyTo(workspace.Inputs.AsSpan(t * rows * features));
        }
        ReadOnlySpan<int> labels = batch.Labels.AsSpan(first, rows);
        Model.Forward(workspace, rows, _packed);
        _losses[worker] += Model.Loss(workspace, labels, rows);
        if (_withGradient)
        {
            float[] gradient = firstChunk ? _gradients[worker] : _chunkGradients[worker];
            Model.Backward(workspace, labels, rows, 1f / batch.Size, gradient, _packed);
            if (!firstChunk)
                TensorPrimitives.Add(_gradients[worker], gradient, _gradients[worker]);
            return;
        }
        int classes = Model.Config.Classes;
        for (int b = 0; b < rows; b++)
            _confusions[worker][labels[b] * classes + TensorPrimitives.IndexOfMax<float>(workspace.Logits.AsSpan(b * classes, classes))]++;
    }

    public void Dispose() => _pool.Dispose();

    private void Run(Batch batch, bool withGradient)
    {
        _batch = batch;
        _withGradient = withGradient;
        _packed.Pack(Model);
        _pool.Run(this);
        _batch = null;
    }

    private double SumLosses()
    {
        double sum = 0;
        foreach (double loss in _losses)
            sum += loss;
        return sum;
    }

    private (int Start, int Count) Rows(int worker, int batchSize)
    {
        int perWorker = (batchSize + Workers - 1) / Workers;
        int start = Math.Min(worker * perWorker, batchSize);
        return (start, Math.Min(perWorker, batchSize - start));
    }
}
