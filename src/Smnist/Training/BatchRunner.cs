using Smnist.Data;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Runs a model over batches with the batch split between worker threads (data parallel): each worker owns a
/// workspace and a gradient buffer for its rows, and the gradients are summed in worker order afterwards, so a
/// given thread count always gives the same bits.
/// </summary>
internal sealed class BatchRunner : IWorkerJob, IDisposable
{
    private readonly Workspace<float>[] _workspaces;
    private readonly float[][] _gradients;
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
        _confusions = new int[workers][];
        _losses = new double[workers];
        for (int w = 0; w < workers; w++)
        {
            _workspaces[w] = new Workspace<float>(model.Config, steps, rowsPerWorker);
            _gradients[w] = new float[model.Layout.Count];
            _confusions[w] = new int[model.Config.Classes * model.Config.Classes];
        }
        _packed = new PackedRecurrentWeights(model.Config);
        _pool = new WorkerPool(workers);
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
            if (Rows(w, batch.Size).Count > 0)
                System.Numerics.Tensors.TensorPrimitives.Add(total, _gradients[w], total);
        return SumLosses() / batch.Size;
    }

    /// <summary>Forward over <paramref name="batch"/>, adding each row's (label, prediction) to <paramref name="confusion"/>; returns the summed loss.</summary>
    public double Evaluate(Batch batch, int[] confusion)
    {
        Run(batch, withGradient: false);
        foreach (int[] counts in _confusions)
            for (int k = 0; k < counts.Length; k++)
            {
                confusion[k] += counts[k];
                counts[k] = 0;
            }
        return SumLosses();
    }

    public void Execute(int worker)
    {
        Batch batch = _batch!;
        (int start, int rows) = Rows(worker, batch.Size);
        _losses[worker] = 0;
        if (rows == 0)
            return;
        Workspace<float> workspace = _workspaces[worker];
        int features = batch.Features;
        // The worker's rows of each timestep, gathered into its own dense (T, rows, d) input.
        for (int t = 0; t < batch.Steps; t++)
            batch.Inputs.AsSpan((t * batch.Size + start) * features, rows * features)
                .CopyTo(workspace.Inputs.AsSpan(t * rows * features));
        ReadOnlySpan<int> labels = batch.Labels.AsSpan(start, rows);
        Model.Forward(workspace, rows, _packed);
        _losses[worker] = Model.Loss(workspace, labels, rows);
        if (_withGradient)
        {
            Model.Backward(workspace, labels, rows, 1f / batch.Size, _gradients[worker], _packed);
            return;
        }
        int classes = Model.Config.Classes;
        for (int b = 0; b < rows; b++)
            _confusions[worker][labels[b] * classes + ArgMax(workspace.Logits.AsSpan(b * classes, classes))]++;
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

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
            if (values[k] > values[best])
                best = k;
        return best;
    }
}
