using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Smnist.Nn;

/// <summary>
/// Every activation and scratch buffer one forward/backward pass needs, sized once for a longest sequence and a
/// largest batch so that training allocates nothing per step. Per-step buffers are packed as <see cref="Steps"/>
/// lays them out (time-major, no padding); a smaller or shorter batch uses a prefix of each. One workspace per
/// worker thread. A workspace for forward passes alone (<see cref="HasGradients"/> false) leaves out the backward
/// pass's buffers.
/// </summary>
internal sealed class Workspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _allocate;
    private PackedGateWeights? _forwardWeights;
    private long _values;

    /// <param name="config">The model's sizes.</param>
    /// <param name="steps">The longest sequence.</param>
    /// <param name="maxBatch">The largest batch.</param>
    /// <param name="gradients">Whether backward passes run on it too, or only forward ones.</param>
    public Workspace(ModelConfig config, int steps, int maxBatch, bool gradients = true)
        : this(config, steps, maxBatch, gradients, allocate: true)
    {
    }

    /// <summary>Lays the buffers out; without <paramref name="allocate"/> it only counts them, for <see cref="Values"/>.</summary>
    private Workspace(ModelConfig config, int steps, int maxBatch, bool gradients, bool allocate)
    {
        config.Validate();
        if (steps < 1) throw new SmnistException($"a sequence needs at least one step, not {steps}");
        if (maxBatch < 1) throw new SmnistException($"a batch needs at least one example, not {maxBatch}");
        _allocate = allocate;
        HasGradients = gradients;
        Config = config;
        MaxSteps = steps;
        MaxBatch = maxBatch;
        int n = config.HiddenSize;
        long rows = (long)steps * maxBatch, states = rows + maxBatch;
        Steps = allocate ? new PackedSteps(steps, maxBatch) : null!;
        _values += PackedSteps.Values(steps, maxBatch);
        Inputs = Allocate(rows * config.InputSize);
        Gates = new ArraySegment<T>[config.Layers];
        Cells = new ArraySegment<T>[config.Layers];
        TanhCells = new ArraySegment<T>[config.Layers];
        Outputs = new ArraySegment<T>[config.Layers];
        for (int layer = 0; layer < config.Layers; layer++)
        {
            Gates[layer] = Allocate(rows * n * 4);
            Cells[layer] = Allocate(states * n);
            TanhCells[layer] = Allocate(rows * n);
            Outputs[layer] = Allocate(states * n);
        }
        // The forward pass gathers one step's z_t here, the backward pass a chunk's.
        int chunkRows = gradients ? LstmCell.MaxChunkRows(steps, maxBatch) : maxBatch;
        int widestInput = n + Math.Max(config.InputSize, config.Layers > 1 ? n : 0);
        ChunkInputs = Allocate((long)chunkRows * widestInput);
        FinalOutputs = Allocate((long)maxBatch * n);
        Logits = Allocate(rows * config.Classes);
        if (gradients)
        {
            PreActivationGrad = Allocate((long)chunkRows * n * 4);
            WeightGradTransposed = Allocate((long)widestInput * n * 4);
            StateGrad = Allocate(2L * maxBatch * n);
            OutputGrad = Allocate(rows * n);
            LowerOutputGrad = config.Layers > 1 ? Allocate(rows * n) : ArraySegment<T>.Empty;
            FinalOutputGrad = Allocate((long)maxBatch * n);
            LogitsGrad = Allocate(rows * config.Classes);
        }
        StepLabels = allocate ? new int[rows] : [];
        _values += rows;
    }

    /// <summary>
    /// Values (floats, doubles or label integers) a workspace for <paramref name="steps"/> steps and
    /// <paramref name="maxBatch"/> rows holds: counted by the constructor's own layout, without allocating.
    /// </summary>
    public static long Values(ModelConfig config, int steps, int maxBatch) => new Workspace<T>(config, steps, maxBatch, gradients: true, allocate: false)._values;

    public ModelConfig Config { get; }

    /// <summary>The longest sequence the buffers hold.</summary>
    public int MaxSteps { get; }

    public int MaxBatch { get; }

    /// <summary>How the batch of the last pass is laid out: its lengths and each step's rows.</summary>
    internal PackedSteps Steps { get; }

    /// <summary>
    /// (rows, d) the batch's input steps, packed as <see cref="Steps"/> lays them out; for a batch of equal lengths,
    /// (T, B, d). The caller fills it before <see cref="SequenceClassifier{T}.Forward(Workspace{T}, int, PackedGateWeights?)"/>.
    /// </summary>
    public ArraySegment<T> Inputs { get; }

    /// <summary>Whether the backward pass's buffers are here; without them only forward passes run.</summary>
    public bool HasGradients { get; }

    /// <summary>Per layer (rows, 4n) activated gates.</summary>
    internal ArraySegment<T>[] Gates { get; }

    /// <summary>Per layer (B + rows, n) cell states: c_0 of every example, then c_t of every real step.</summary>
    internal ArraySegment<T>[] Cells { get; }

    /// <summary>Per layer (rows, n) tanh(c_t).</summary>
    internal ArraySegment<T>[] TanhCells { get; }

    /// <summary>Per layer (B + rows, n) outputs: v_0 of every example, then v_t of every real step.</summary>
    internal ArraySegment<T>[] Outputs { get; }

    /// <summary>(chunk, 4n) gradient of the gate pre-activations of one chunk of timesteps of the layer being swept back.</summary>
    internal ArraySegment<T> PreActivationGrad { get; } = ArraySegment<T>.Empty;

    /// <summary>(chunk, n+d) the inputs z_t = [v_{t-1}; x_t] of one step (forward) or one chunk of timesteps (for its weight gradient).</summary>
    internal ArraySegment<T> ChunkInputs { get; }

    /// <summary>(n+d, 4n) a layer's weight gradient as the products accumulate it, before it is transposed into place.</summary>
    internal ArraySegment<T> WeightGradTransposed { get; } = ArraySegment<T>.Empty;

    /// <summary>(2, B, n) gradients carried back through time.</summary>
    internal ArraySegment<T> StateGrad { get; } = ArraySegment<T>.Empty;

    /// <summary>(rows, n) gradient arriving at a layer's outputs, and the one it passes to the layer below.</summary>
    internal ArraySegment<T> OutputGrad { get; } = ArraySegment<T>.Empty;

    internal ArraySegment<T> LowerOutputGrad { get; } = ArraySegment<T>.Empty;

    /// <summary>(B, n) each example's last-layer output at its own last step: what the readout reads.</summary>
    internal ArraySegment<T> FinalOutputs { get; }

    /// <summary>(B, n) the gradient of the loss with respect to <see cref="FinalOutputs"/>.</summary>
    internal ArraySegment<T> FinalOutputGrad { get; } = ArraySegment<T>.Empty;

    /// <summary>(B, K) logits of the last forward pass, or (rows, K) when it read out every step.</summary>
    public ArraySegment<T> Logits { get; }

    /// <summary>Gradient of the loss with respect to <see cref="Logits"/>, in the same layout.</summary>
    internal ArraySegment<T> LogitsGrad { get; } = ArraySegment<T>.Empty;

    /// <summary>(rows) per-step labels packed as the steps are, for a caller that gathers them here.</summary>
    internal int[] StepLabels { get; }

    /// <summary>Where the last forward pass read the classes out, which sets the layout of <see cref="Logits"/>.</summary>
    internal ReadoutAt Readout { get; set; }

    /// <summary>(rows, n) v_t of <paramref name="layer"/> at every real step of the last pass.</summary>
    internal ReadOnlySpan<T> StepOutputs(int layer)
    {
        int n = Config.HiddenSize;
        return Outputs[layer].AsSpan(Steps.Batch * n, Steps.TotalRows * n);
    }

    /// <summary>(4n) activated gates f, i (r with the refine gate), o, c̃ of <paramref name="layer"/> at step <paramref name="t"/> (0-based) of example <paramref name="example"/>.</summary>
    internal ReadOnlySpan<T> GatesAt(int layer, int t, int example) =>
        Gates[layer].AsSpan(RowOf(t, example) * 4 * Config.HiddenSize, 4 * Config.HiddenSize);

    /// <summary>(n) c_t of <paramref name="layer"/> after step <paramref name="t"/> (0-based) of example <paramref name="example"/>.</summary>
    internal ReadOnlySpan<T> CellAt(int layer, int t, int example) =>
        Cells[layer].AsSpan((Steps.Batch + RowOf(t, example)) * Config.HiddenSize, Config.HiddenSize);

    /// <summary>(n) v_t of <paramref name="layer"/> after step <paramref name="t"/> (0-based) of example <paramref name="example"/>.</summary>
    internal ReadOnlySpan<T> OutputAt(int layer, int t, int example) =>
        Outputs[layer].AsSpan((Steps.Batch + RowOf(t, example)) * Config.HiddenSize, Config.HiddenSize);

    /// <summary>(K) the logits of step <paramref name="t"/> of example <paramref name="example"/> after a pass that read out every step.</summary>
    internal ReadOnlySpan<T> StepLogits(int t, int example)
    {
        if (Readout != ReadoutAt.EveryStep)
            throw new InvalidOperationException("the last pass read out only each sequence's last step");
        return Logits.AsSpan(RowOf(t, example) * Config.Classes, Config.Classes);
    }

    /// <summary>
    /// The gate weights packed for the forward products, for passes given no packed weights: packed once per pass, or
    /// per stream, rather than inside each timestep's product. Allocated at its first use.
    /// </summary>
    internal PackedGateWeights ForwardWeights => _forwardWeights ??= new PackedGateWeights(Config, backward: false);

    /// <summary>Per layer the activations, as one layer's pass reads and writes them.</summary>
    internal LayerActivations<T> Activations(int layer) => new(Gates[layer], Cells[layer], TanhCells[layer], Outputs[layer]);

    /// <summary>The scratch one layer's backward pass uses.</summary>
    internal BackwardScratch<T> Scratch => new(PreActivationGrad, ChunkInputs, WeightGradTransposed, StateGrad);

    private int RowOf(int t, int example)
    {
        if ((uint)example >= (uint)Steps.Batch || (uint)t >= (uint)Steps.Lengths[example])
            throw new ArgumentOutOfRangeException(nameof(t), t, $"example {example} of the last pass has no step {t}");
        return Steps.Offset(t) + example;
    }

    /// <summary>
    /// A buffer of <paramref name="length"/> values that starts on a cache line: the products and element-wise passes
    /// move whole 64-byte vectors, and one that straddles two lines costs two. Pinned, so that it stays aligned.
    /// </summary>
    private unsafe ArraySegment<T> Allocate(long length)
    {
        int pad = CacheLineBytes / sizeof(T);
        if (length > Array.MaxLength - pad)
            throw new SmnistException($"a workspace buffer of {length} values is too large; use a smaller batch or hidden size");
        _values += length + pad;
        if (!_allocate)
            return [];
        T[] array = GC.AllocateArray<T>((int)length + pad, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        int offset = (int)(-address & (CacheLineBytes - 1)) / sizeof(T);
        return new ArraySegment<T>(array, offset, (int)length);
    }

    private const int CacheLineBytes = 64;
}
