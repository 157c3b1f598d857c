using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Kernels;
using Smnist.Nn;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>
/// Runs a model over batches with the batch split between worker threads (data parallel): each worker owns a
/// workspace and a gradient buffer for its rows, and the gradients are summed in worker order afterwards, so a
/// given thread count always gives the same bits. The work around the products is split too: each worker packs a
/// share of the gate weights before the pass, and sums, clips and updates its own slice of the parameters after it
/// (<see cref="Slice"/>). A batch of equal lengths is cut into runs of consecutive rows; a
/// batch of different lengths (sorted longest first) is dealt out row by row (<see cref="ShareRow"/>), so that each
/// worker gets about the same number of real steps and its rows stay sorted. A worker takes its rows in passes of at
/// most <see cref="RowsPerPass"/>, so that a large batch's activations stay in cache.
/// </summary>
internal sealed class BatchRunner : IWorkerJob, IDisposable
{
    /// <summary>Rows one forward/backward pass takes at a time: per sample, 16–32 rows ran fastest here.</summary>
    internal const int RowsPerPass = 32;

    private readonly Workspace<float>[] _workspaces;
    private readonly float[][] _gradients;
    private readonly float[][] _chunkGradients;  // a later chunk's gradient, before it is added to the worker's
    private readonly double[] _losses;
    private readonly int[][] _confusions;
    private readonly WorkerPool _pool;
    private readonly PackedGateWeights _packed;
    private readonly int[][] _passLengths;       // per worker (rows of one pass) the lengths of its rows
    private readonly int[][] _shares;            // per worker (its rows) the batch rows it takes, in order
    private readonly bool[] _finiteSlices;       // per worker: whether its slice of the summed gradient is finite
    private readonly UpdateJob _update;
    private Batch? _batch;
    private bool _withGradient;
    private int _scored;

    public BatchRunner(SequenceClassifier<float> model, int steps, int maxBatch, int threads)
    {
        Model = model;
        int workers = Math.Clamp(threads, 1, maxBatch);
        int rowsPerWorker = (maxBatch + workers - 1) / workers;
        _workspaces = new Workspace<float>[workers];
        _gradients = new float[workers][];
        _chunkGradients = new float[workers][];
        _confusions = new int[workers][];
        _passLengths = new int[workers][];
        _shares = new int[workers][];
        _losses = new double[workers];
        _finiteSlices = new bool[workers];
        for (int w = 0; w < workers; w++)
        {
            _workspaces[w] = new Workspace<float>(model.Config, steps, Math.Min(rowsPerWorker, RowsPerPass));
            _gradients[w] = new float[model.Layout.Count];
            _chunkGradients[w] = rowsPerWorker > RowsPerPass ? new float[model.Layout.Count] : [];
            _confusions[w] = new int[model.Config.Classes * model.Config.Classes];
            _passLengths[w] = new int[RowsPerPass];
            _shares[w] = new int[rowsPerWorker];
        }
        _packed = new PackedGateWeights(model.Config);
        _pool = new WorkerPool(workers);
        _update = new UpdateJob(this);
    }

    /// <summary>
    /// Bytes a runner for <paramref name="config"/> allocates (workspaces, gradients, packed weights), computed in
    /// 64-bit arithmetic before anything is allocated, so an impossible configuration is refused rather than crashing.
    /// </summary>
    public static long EstimateBytes(ModelConfig config, int steps, int maxBatch, int threads)
    {
        int workers = Math.Clamp(threads, 1, maxBatch);
        int rowsPerWorker = (maxBatch + workers - 1) / workers;
        long perWorker = Workspace<float>.Values(config, steps, Math.Min(rowsPerWorker, RowsPerPass))
            + config.ParameterCount * (rowsPerWorker > RowsPerPass ? 2 : 1);
        long packed = 2L * config.Layers * 4 * config.HiddenSize * (config.HiddenSize + Gemm.PanelWidth);
        return sizeof(float) * (workers * perWorker + packed);
    }

    public SequenceClassifier<float> Model { get; }

    public int Workers => _pool.Workers;

    /// <summary>Bytes allocated so far by the worker threads other than the caller's.</summary>
    internal long BackgroundAllocatedBytes => _pool.BackgroundAllocatedBytes;

    /// <summary>The gradient of the last <see cref="TrainStep"/>, laid out as the model's parameters.</summary>
    public float[] Gradient => _gradients[0];

    /// <summary>Whether every element of <see cref="Gradient"/> is finite.</summary>
    public bool GradientIsFinite => Array.TrueForAll(_finiteSlices, finite => finite);

    /// <summary>
    /// Forward and backward over <paramref name="batch"/>: returns the mean loss (over its examples, or over its
    /// labelled steps when it has per-step labels); the gradient of that mean lands in <see cref="Gradient"/>.
    /// </summary>
    public double TrainStep(Batch batch)
    {
        int scored = Run(batch, withGradient: true);
        return scored == 0 ? 0 : SumLosses() / scored;
    }

    /// <summary>
    /// Scales <see cref="Gradient"/> as clipping its global norm to <paramref name="clipNorm"/> does (when given), then
    /// takes <paramref name="adam"/>'s step with it on the model's parameters: the same bits as
    /// <see cref="GradientClipping.ClipGlobalNorm"/> and <see cref="Adam.Update"/>, each worker on its own slice.
    /// </summary>
    public void Update(Adam adam, float learningRate, float? clipNorm)
    {
        if (adam.FirstMoment.Length != Model.Layout.Count)
            throw new ArgumentException($"Adam was sized for {adam.FirstMoment.Length} parameters, the model has {Model.Layout.Count}", nameof(adam));
        _update.Adam = adam;
        _update.Step = adam.NextStep(learningRate);
        _update.GradientScale = clipNorm is float maxNorm ? GradientClipping.Scale(Gradient, maxNorm) : 1f;
        _pool.Run(_update);
        _update.Adam = null;
    }

    /// <summary>
    /// Forward over <paramref name="batch"/>, adding each example's (or labelled step's) (label, prediction) to
    /// <paramref name="confusion"/>; returns the summed loss and how many examples or steps it scored.
    /// </summary>
    public (double Loss, int Scored) Evaluate(Batch batch, int[] confusion)
    {
        int scored = Run(batch, withGradient: false);
        foreach (int[] counts in _confusions)
        {
            for (int k = 0; k < counts.Length; k++)
            {
                confusion[k] += counts[k];
                counts[k] = 0;
            }
        }
        return (SumLosses(), scored);
    }

    public void Execute(int worker)
    {
        Batch batch = _batch!;
        _packed.Pack(Model, worker, Workers);
        _pool.Synchronize(); // every share packed before any product reads the weights
        Span<int> share = _shares[worker].AsSpan(0, ShareSize(worker, batch));
        for (int k = 0; k < share.Length; k++)
            share[k] = ShareRow(worker, k, batch);
        _losses[worker] = 0;
        for (int done = 0; done < share.Length; done += RowsPerPass)
            RunPass(worker, batch, share.Slice(done, Math.Min(RowsPerPass, share.Length - done)), firstPass: done == 0);
        if (!_withGradient)
            return;
        _pool.Synchronize(); // every worker's gradient done before the sums read it
        (int start, int length) = Slice(worker);
        Span<float> total = _gradients[0].AsSpan(start, length);
        for (int w = 1; w < Workers; w++)
        {
            if (ShareSize(w, batch) > 0)
                TensorPrimitives.Add(total, _gradients[w].AsSpan(start, length), total);
        }
        _finiteSlices[worker] = TensorPrimitives.IsFiniteAll<float>(total);
    }

    /// <summary>Forward (and backward) over the batch rows <paramref name="batchRows"/> on <paramref name="worker"/>'s buffers.</summary>
    private void RunPass(int worker, Batch batch, ReadOnlySpan<int> batchRows, bool firstPass)
    {
        Workspace<float> workspace = _workspaces[worker];
        PackedSteps steps = workspace.Steps;
        int features = batch.Features, rows = batchRows.Length;
        Span<int> lengths = _passLengths[worker].AsSpan(0, rows);
        for (int b = 0; b < rows; b++)
            lengths[b] = batch.Lengths[batchRows[b]];
        steps.Set(lengths);
        // The pass's running rows of each timestep, gathered into the worker's own packed (rows, d) input (and labels).
        for (int t = 0; t < steps.Steps; t++)
        {
            int row = steps.Offset(t);
            for (int b = 0; b < steps.Rows(t); b++)
            {
                int source = t * batch.Size + batchRows[b];
                batch.Inputs.AsSpan(source * features, features).CopyTo(workspace.Inputs.AsSpan((row + b) * features));
                if (batch.LabelsPerStep)
                    workspace.StepLabels[row + b] = batch.Labels[source];
            }
        }
        ReadOnlySpan<int> labels;
        if (batch.LabelsPerStep)
        {
            labels = workspace.StepLabels.AsSpan(0, steps.TotalRows);
        }
        else
        {
            Span<int> passLabels = workspace.StepLabels.AsSpan(0, rows);
            for (int b = 0; b < rows; b++)
                passLabels[b] = batch.Labels[batchRows[b]];
            labels = passLabels;
        }
        Model.Forward(workspace, lengths, batch.LabelsPerStep ? ReadoutAt.EveryStep : ReadoutAt.LastStep, _packed);
        _losses[worker] += Model.Loss(workspace, labels);
        if (_withGradient)
        {
            float[] gradient = firstPass ? _gradients[worker] : _chunkGradients[worker];
            Model.Backward(workspace, labels, 1f / _scored, gradient, _packed);
            if (!firstPass)
                TensorPrimitives.Add(_gradients[worker], gradient, _gradients[worker]);
            return;
        }
        int classes = Model.Config.Classes;
        for (int r = 0; r < labels.Length; r++)
        {
            if (labels[r] != SequenceLabels.None)
                _confusions[worker][labels[r] * classes + TensorPrimitives.IndexOfMax<float>(workspace.Logits.AsSpan(r * classes, classes))]++;
        }
    }

    public void Dispose() => _pool.Dispose();

    /// <summary>Runs the batch on the workers; returns how many examples (or labelled steps) it scores.</summary>
    private int Run(Batch batch, bool withGradient)
    {
        _batch = batch;
        _withGradient = withGradient;
        _scored = batch.Size;
        if (batch.LabelsPerStep)
        {
            _scored = 0;
            foreach (int label in batch.LabelSpan)
                _scored += label == SequenceLabels.None ? 0 : 1;
        }
        _pool.Run(this);
        _batch = null;
        return _scored;
    }

    private double SumLosses()
    {
        double sum = 0;
        foreach (double loss in _losses)
            sum += loss;
        return sum;
    }

    /// <summary>How many of the batch's rows <paramref name="worker"/> takes (<see cref="ShareRow"/>).</summary>
    private int ShareSize(int worker, Batch batch)
    {
        int size = batch.Size;
        if (batch.Lengths[size - 1] == batch.Lengths[0])
            return Math.Clamp(size - worker * ((size + Workers - 1) / Workers), 0, (size + Workers - 1) / Workers);
        int rounds = size / Workers;
        return rounds + (Seat(worker, rounds) < size - rounds * Workers ? 1 : 0);
    }

    /// <summary>
    /// The batch row that is the <paramref name="k"/>-th of <paramref name="worker"/>'s share. Equal lengths: a run of
    /// consecutive rows. Different lengths: the rows go out in rounds of one per worker, in worker order in even rounds
    /// and in reverse in odd ones (0, 1, 1, 0, 0, 1, … for two workers), so that at every step each worker has the
    /// same number of running rows give or take one, and about the same real steps; in worker order every round,
    /// the first worker would take the longest row of each.
    /// </summary>
    private int ShareRow(int worker, int k, Batch batch)
    {
        int size = batch.Size;
        if (batch.Lengths[size - 1] == batch.Lengths[0])
            return worker * ((size + Workers - 1) / Workers) + k;
        return k * Workers + Seat(worker, k);
    }

    /// <summary>
    /// The part of the parameters (and of the gradient) that <paramref name="worker"/> sums, clips and updates: the
    /// workers' slices in order, each a multiple of 16 long but the last, so that <see cref="Adam.Apply"/> gives the
    /// bits of one pass.
    /// </summary>
    private (int Start, int Length) Slice(int worker)
    {
        int count = Model.Layout.Count;
        int size = (count + 16 * Workers - 1) / (16 * Workers) * 16;
        int start = Math.Min(count, worker * size);
        return (start, Math.Min(count, start + size) - start);
    }

    /// <summary>Where <paramref name="worker"/> stands in round <paramref name="round"/> of the deal: its index, or from the end in odd rounds.</summary>
    private int Seat(int worker, int round) => round % 2 == 0 ? worker : Workers - 1 - worker;

    /// <summary>
    /// The update after a step: each worker scales its <see cref="Slice"/> of the gradient and takes Adam's step on
    /// its slice of the parameters.
    /// </summary>
    private sealed class UpdateJob(BatchRunner runner) : IWorkerJob
    {
        public Adam? Adam { get; set; }

        public AdamStep Step { get; set; }

        public float GradientScale { get; set; }

        public void Execute(int worker)
        {
            (int start, int length) = runner.Slice(worker);
            Span<float> gradient = runner.Gradient.AsSpan(start, length);
            if (GradientScale < 1f)
                TensorPrimitives.Multiply(gradient, GradientScale, gradient);
            Adam!.Apply(Step, runner.Model.Parameters.AsSpan(start, length), gradient, start);
        }
    }
}
