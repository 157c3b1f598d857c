using System.Numerics;

namespace Smnist.Nn;

/// <summary>
/// Every activation and scratch buffer one forward/backward pass needs, sized once for a sequence length and a
/// largest batch so that training allocates nothing per step. Buffers are time-major; a smaller batch uses a
/// prefix of each with the batch size as its stride. One workspace per worker thread.
/// </summary>
internal sealed class Workspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Workspace(ModelConfig config, int steps, int maxBatch)
    {
        config.Validate();
        if (steps < 1) throw new SmnistException($"a sequence needs at least one step, not {steps}");
        if (maxBatch < 1) throw new SmnistException($"a batch needs at least one example, not {maxBatch}");
        Config = config;
        Steps = steps;
        MaxBatch = maxBatch;
        int n = config.HiddenSize;
        long state = (long)maxBatch * n;
        Inputs = Allocate((long)steps * maxBatch * config.InputSize);
        Gates = new T[config.Layers][];
        Cells = new T[config.Layers][];
        TanhCells = new T[config.Layers][];
        Outputs = new T[config.Layers][];
        for (int layer = 0; layer < config.Layers; layer++)
        {
            Gates[layer] = Allocate(steps * state * 4);
            Cells[layer] = Allocate((steps + 1) * state);
            TanhCells[layer] = Allocate(steps * state);
            Outputs[layer] = Allocate((steps + 1) * state);
        }
        int chunkRows = LstmCell.MaxChunkRows(steps, maxBatch);
        PreActivationGrad = Allocate((long)chunkRows * n * 4);
        int widestInput = n + Math.Max(config.InputSize, config.Layers > 1 ? n : 0);
        ChunkInputs = Allocate((long)chunkRows * widestInput);
        WeightGradTransposed = Allocate((long)widestInput * n * 4);
        StateGrad = Allocate(2 * state);
        OutputGrad = Allocate(steps * state);
        LowerOutputGrad = config.Layers > 1 ? Allocate(steps * state) : [];
        Logits = Allocate((long)maxBatch * config.Classes);
        LogitsGrad = Allocate((long)maxBatch * config.Classes);
    }

    /// <summary>Values the buffers of a workspace for <paramref name="maxBatch"/> rows hold, in 64-bit arithmetic (as allocated above).</summary>
    public static long Values(ModelConfig config, int steps, int maxBatch)
    {
        long state = (long)maxBatch * config.HiddenSize;
        long perLayer = steps * state * 4 + 2 * (steps + 1) * state + steps * state;
        long shared = steps * state * 4 + 2 * state + steps * state * (config.Layers > 1 ? 2 : 1) + 2L * maxBatch * config.Classes;
        return (long)steps * maxBatch * config.InputSize + config.Layers * perLayer + shared;
    }

    public ModelConfig Config { get; }

    public int Steps { get; }

    public int MaxBatch { get; }

    /// <summary>(T, B, d) the batch's input sequences; the caller fills it before <see cref="SequenceClassifier{T}.Forward"/>.</summary>
    public T[] Inputs { get; }

    /// <summary>Per layer (T, B, 4n) activated gates.</summary>
    internal T[][] Gates { get; }

    /// <summary>Per layer (T+1, B, n) cell states c_0..c_T.</summary>
    internal T[][] Cells { get; }

    /// <summary>Per layer (T, B, n) tanh(c_t).</summary>
    internal T[][] TanhCells { get; }

    /// <summary>Per layer (T+1, B, n) outputs v_0..v_T.</summary>
    internal T[][] Outputs { get; }

    /// <summary>(chunk, B, 4n) gradient of the gate pre-activations of one chunk of timesteps of the layer being swept back.</summary>
    internal T[] PreActivationGrad { get; }

    /// <summary>(chunk, B, n+d) the inputs z_t = [v_{t-1}; x_t] of one step (forward) or one chunk of timesteps (for its weight gradient).</summary>
    internal T[] ChunkInputs { get; }

    /// <summary>(n+d, 4n) a layer's weight gradient as the products accumulate it, before it is transposed into place.</summary>
    internal T[] WeightGradTransposed { get; }

    /// <summary>(2, B, n) gradients carried back through time.</summary>
    internal T[] StateGrad { get; }

    /// <summary>(T, B, n) gradient arriving at a layer's outputs, and the one it passes to the layer below.</summary>
    internal T[] OutputGrad { get; }

    internal T[] LowerOutputGrad { get; }

    /// <summary>(B, K) logits of the last forward pass.</summary>
    public T[] Logits { get; }

    /// <summary>(B, K) gradient of the loss with respect to the logits.</summary>
    internal T[] LogitsGrad { get; }

    private static T[] Allocate(long length) =>
        length <= Array.MaxLength ? new T[length] : throw new SmnistException($"a workspace buffer of {length} values is too large; use a smaller batch or hidden size");
}
