namespace Smnist.Nn;

/// <summary>One named parameter tensor: a contiguous slice of the flat parameter buffer. FanIn is the input width of
/// the linear map it belongs to, which sets its initial range.</summary>
public sealed record ParameterTensor(string Name, int[] Shape, int Offset, int Length, int FanIn);

/// <summary>
/// Where each parameter lives in the model's single flat buffer. Per layer l the four gate weights are one
/// (4n, n+d) matrix whose row blocks are forget, input, output, candidate, so every gate's (n, n+d) weight is a
/// contiguous slice and all four gates come out of one matrix product; the four biases likewise form one (4n)
/// vector. Columns 0..n-1 act on v_{t-1}, columns n.. on x_t, matching z_t = [v_{t-1}; x_t]. With
/// <see cref="ModelConfig.RefineGate"/>, block 1 is the refine gate (named "refine") instead of the input gate.
/// </summary>
public sealed class ParameterLayout
{
    /// <summary>The gate names in their row-block order; checkpoint tensors are named lstm.{l}.{gate}.weight/bias.</summary>
    public static readonly string[] GateNames = ["forget", "input", "output", "candidate"];

    /// <summary>The gate names of a UR-LSTM layer (<see cref="ModelConfig.RefineGate"/>): the refine gate in the input gate's place.</summary>
    public static readonly string[] RefineGateNames = ["forget", "refine", "output", "candidate"];

    /// <summary>Gate indices in the order the layout stores them.</summary>
    public const int Forget = 0, Input = 1, Output = 2, Candidate = 3;

    /// <summary>Index of the refine gate in a UR-LSTM layer: the input gate's block.</summary>
    public const int Refine = Input;

    private readonly int[] _weightOffsets;
    private readonly int[] _biasOffsets;

    /// <summary>The layout of a model of <paramref name="config"/>.</summary>
    public ParameterLayout(ModelConfig config)
    {
        config.Validate();
        Config = config;
        int n = config.HiddenSize;
        Gates = config.RefineGate ? RefineGateNames : GateNames;
        var tensors = new List<ParameterTensor>();
        _weightOffsets = new int[config.Layers];
        _biasOffsets = new int[config.Layers];
        long offset = 0;
        for (int layer = 0; layer < config.Layers; layer++)
        {
            int columns = n + config.LayerInputSize(layer);
            _weightOffsets[layer] = checked((int)offset);
            foreach (string gate in Gates)
            {
                tensors.Add(new ParameterTensor($"lstm.{layer}.{gate}.weight", [n, columns], checked((int)offset), n * columns, columns));
                offset += (long)n * columns;
            }
            _biasOffsets[layer] = checked((int)offset);
            foreach (string gate in Gates)
            {
                tensors.Add(new ParameterTensor($"lstm.{layer}.{gate}.bias", [n], checked((int)offset), n, columns));
                offset += n;
            }
        }
        ReadoutWeightOffset = checked((int)offset);
        tensors.Add(new ParameterTensor("readout.weight", [config.Classes, n], ReadoutWeightOffset, config.Classes * n, n));
        offset += (long)config.Classes * n;
        ReadoutBiasOffset = checked((int)offset);
        tensors.Add(new ParameterTensor("readout.bias", [config.Classes], ReadoutBiasOffset, config.Classes, n));
        offset += config.Classes;
        Count = checked((int)offset);
        Tensors = tensors;
    }

    /// <summary>The model's sizes.</summary>
    public ModelConfig Config { get; }

    /// <summary>This model's gate names in their row-block order: <see cref="GateNames"/> or <see cref="RefineGateNames"/>.</summary>
    public IReadOnlyList<string> Gates { get; }

    /// <summary>Total number of parameters.</summary>
    public int Count { get; }

    /// <summary>Every named tensor with its shape and offset in the flat parameter vector.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }

    /// <summary>Offset of layer <paramref name="layer"/>'s (4n, n+d) gate weight matrix.</summary>
    public int GateWeightOffset(int layer) => _weightOffsets[layer];

    /// <summary>Offset of layer <paramref name="layer"/>'s (4n) gate biases.</summary>
    public int GateBiasOffset(int layer) => _biasOffsets[layer];

    /// <summary>Offset of the (classes, n) readout weight.</summary>
    public int ReadoutWeightOffset { get; }

    /// <summary>Offset of the (classes) readout bias.</summary>
    public int ReadoutBiasOffset { get; }
}
