using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// Every layer's (4n, n+d) gate weight packed for the matrix kernel as the timestep products use it: the whole weight
/// transposed, (n+d, 4n), for the forward pass; its recurrent part (the first n columns) as stored, (4n, n), for
/// backpropagation. Pack once per training step, after the parameters last changed; read-only afterwards, so every
/// worker thread (and every reader of one model) shares it.
/// </summary>
public sealed class PackedGateWeights
{
    private readonly PackedMatrix[] _forward;
    private readonly PackedMatrix[] _backward;

    /// <summary>Buffers for the packed gate weights of a model of <paramref name="config"/>.</summary>
    public PackedGateWeights(ModelConfig config)
        : this(config, backward: true)
    {
    }

    /// <summary>Without <paramref name="backward"/>, only the forward pass's: for passes that predict.</summary>
    internal PackedGateWeights(ModelConfig config, bool backward)
    {
        Config = config;
        int n = config.HiddenSize;
        _forward = new PackedMatrix[config.Layers];
        _backward = new PackedMatrix[backward ? config.Layers : 0];
        for (int layer = 0; layer < config.Layers; layer++)
        {
            _forward[layer] = new PackedMatrix(n + config.LayerInputSize(layer), 4 * n);
            if (backward)
                _backward[layer] = new PackedMatrix(4 * n, n);
        }
    }

    /// <summary>The configuration the buffers are sized for.</summary>
    public ModelConfig Config { get; }

    /// <summary>Packs the current gate weights of <paramref name="model"/>.</summary>
    public void Pack(SequenceClassifier<float> model) => Pack(model, share: 0, shares: 1);

    /// <summary>
    /// Packs share <paramref name="share"/> of <paramref name="shares"/> of the current gate weights of
    /// <paramref name="model"/>: a run of each packed matrix's column panels, so that threads packing every share at
    /// once pack it all, each about as much.
    /// </summary>
    internal void Pack(SequenceClassifier<float> model, int share, int shares)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Config != Config)
            throw new ArgumentException("the packed weights were sized for another model configuration", nameof(model));
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            ReadOnlySpan<float> weight = model.GateWeight(layer);                 // (4n, n+d)
            int columns = Config.HiddenSize + Config.LayerInputSize(layer);
            PackShare(_forward[layer], weight, columns, transposeB: true, share, shares);
            if (_backward.Length > 0)
                PackShare(_backward[layer], weight, columns, transposeB: false, share, shares);
        }
    }

    private static void PackShare(PackedMatrix destination, ReadOnlySpan<float> weight, int columns, bool transposeB, int share, int shares)
    {
        int first = destination.Panels * share / shares;
        int end = destination.Panels * (share + 1) / shares;
        Gemm.PackPanels(destination, weight, columns, transposeB, first, end - first);
    }

    internal PackedMatrix Forward(int layer) => _forward[layer];

    internal PackedMatrix Backward(int layer) => _backward[layer];
}
