using System.Numerics;

namespace Smnist.Nn;

/// <summary>
/// The seed's network: L stacked LSTM layers (layer l > 0 reads layer l−1's outputs) and a linear readout of the
/// last layer's final output v_T. Parameters live in one flat buffer laid out by <see cref="ParameterLayout"/>.
/// Generic so the same code runs in float for training and in double for the gradient checks.
/// </summary>
public sealed class SequenceClassifier<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A model of <paramref name="config"/> over <paramref name="parameters"/> (zeros when null).</summary>
    public SequenceClassifier(ModelConfig config, T[]? parameters = null)
    {
        Layout = new ParameterLayout(config);
        if (parameters is not null && parameters.Length != Layout.Count)
            throw new SmnistException($"the model needs {Layout.Count} parameters, not {parameters.Length}");
        Parameters = parameters ?? new T[Layout.Count];
    }

    /// <summary>The model's sizes.</summary>
    public ModelConfig Config => Layout.Config;

    /// <summary>Where each named tensor lies in <see cref="Parameters"/>.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>All parameters, flat; see <see cref="Layout"/> for where each tensor lives.</summary>
    public T[] Parameters { get; }

    /// <summary>
    /// nn.Linear's default initialisation, as the seed uses: every weight and bias uniform in ±1/√fan_in (fan_in
    /// n + d for the gates, n for the readout), drawn tensor by tensor in layout order from one seed. With
    /// <paramref name="forgetBias"/>, the forget-gate biases start at that constant instead, and with
    /// <paramref name="inputBias"/> the input-gate biases; the draws are the same either way.
    /// </summary>
    public static SequenceClassifier<T> Initialize(ModelConfig config, ulong seed, double? forgetBias = null, double? inputBias = null)
    {
        var model = new SequenceClassifier<T>(config);
        var random = DeterministicRandom.For(seed, RandomStreams.Initialization, 0);
        foreach (ParameterTensor tensor in model.Layout.Tensors)
        {
            double bound = 1 / Math.Sqrt(tensor.FanIn);
            Span<T> values = model.Parameters.AsSpan(tensor.Offset, tensor.Length);
            for (int k = 0; k < values.Length; k++)
                values[k] = T.CreateTruncating((float)((random.NextDouble() * 2 - 1) * bound));
            if (forgetBias is double forget && tensor.Name.EndsWith(".forget.bias", StringComparison.Ordinal))
                values.Fill(T.CreateTruncating((float)forget));
            if (inputBias is double input && tensor.Name.EndsWith(".input.bias", StringComparison.Ordinal))
                values.Fill(T.CreateTruncating((float)input));
        }
        return model;
    }

    /// <summary>The kernels every pass of this model computes with, on whichever thread it runs.</summary>
    internal KernelSet Kernels { get; set; } = KernelSet.Fast;

    /// <summary>
    /// Runs the network on <paramref name="workspace"/>'s inputs (T, B, d); logits land in its (B, K) Logits.
    /// <paramref name="packed"/> (float only) must hold the current recurrent weights.
    /// </summary>
    internal void Forward(Workspace<T> workspace, int batch, PackedRecurrentWeights? packed = null)
    {
        CheckWorkspace(workspace, batch);
        ModelConfig config = Config;
        int n = config.HiddenSize, steps = workspace.Steps;
        for (int layer = 0; layer < config.Layers; layer++)
        {
            int d = config.LayerInputSize(layer);
            LstmCell.Forward<T>(Kernels, workspace.Gates[layer], workspace.Cells[layer], workspace.TanhCells[layer], workspace.Outputs[layer], workspace.ChunkInputs,
                LayerInputs(workspace, layer, batch), GateWeight(layer), GateBias(layer), steps, batch, d, n, packed?.Forward(layer));
        }
        Readout.Forward<T>(Kernels, workspace.Logits, FinalOutput(workspace, batch), ReadoutWeight, ReadoutBias, batch, n, config.Classes);
    }

    /// <summary>The summed cross-entropy of the last forward pass against <paramref name="labels"/>.</summary>
    internal double Loss(Workspace<T> workspace, ReadOnlySpan<int> labels, int batch) =>
        CrossEntropy.Forward<T>(workspace.Logits, labels, batch, Config.Classes);

    /// <summary>
    /// Backpropagation through time after <see cref="Forward"/>: writes the gradient of
    /// <paramref name="lossScale"/> · Σ cross-entropy into <paramref name="gradient"/> (laid out as
    /// <see cref="Parameters"/>; every entry overwritten). A mean over a batch split between workers uses
    /// lossScale = 1 / whole batch. <paramref name="packed"/> as for <see cref="Forward"/>.
    /// </summary>
    internal void Backward(Workspace<T> workspace, ReadOnlySpan<int> labels, int batch, T lossScale, Span<T> gradient, PackedRecurrentWeights? packed = null)
    {
        CheckWorkspace(workspace, batch);
        if (gradient.Length != Layout.Count)
            throw new ArgumentException($"the gradient needs {Layout.Count} entries, not {gradient.Length}", nameof(gradient));
        ModelConfig config = Config;
        int n = config.HiddenSize, steps = workspace.Steps, classes = config.Classes;
        int state = batch * n;

        CrossEntropy.Backward<T>(workspace.LogitsGrad, workspace.Logits, labels, lossScale, batch, classes);
        Span<T> outputGrad = workspace.OutputGrad.AsSpan(0, steps * state);
        outputGrad[..((steps - 1) * state)].Clear();
        Readout.Backward<T>(Kernels, gradient.Slice(Layout.ReadoutWeightOffset, classes * n), gradient.Slice(Layout.ReadoutBiasOffset, classes),
            outputGrad[((steps - 1) * state)..], workspace.LogitsGrad, FinalOutput(workspace, batch), ReadoutWeight, batch, n, classes);

        Span<T> lowerGrad = workspace.LowerOutputGrad.AsSpan(0, config.Layers > 1 ? steps * state : 0);
        for (int layer = config.Layers - 1; layer >= 0; layer--)
        {
            int d = config.LayerInputSize(layer);
            LstmCell.Backward<T>(Kernels,
                gradient.Slice(Layout.GateWeightOffset(layer), 4 * n * (n + d)), gradient.Slice(Layout.GateBiasOffset(layer), 4 * n),
                layer > 0 ? lowerGrad : [], workspace.PreActivationGrad, workspace.ChunkInputs, workspace.WeightGradTransposed, workspace.StateGrad,
                outputGrad, workspace.Gates[layer], workspace.Cells[layer], workspace.TanhCells[layer], workspace.Outputs[layer],
                LayerInputs(workspace, layer, batch), GateWeight(layer), steps, batch, d, n, packed?.Backward(layer));
            Span<T> swap = outputGrad;
            outputGrad = lowerGrad;
            lowerGrad = swap;
        }
    }

    /// <summary>(4n, n+d) the stacked gate weights of <paramref name="layer"/>.</summary>
    internal ReadOnlySpan<T> GateWeight(int layer) =>
        Parameters.AsSpan(Layout.GateWeightOffset(layer), 4 * Config.HiddenSize * (Config.HiddenSize + Config.LayerInputSize(layer)));

    private ReadOnlySpan<T> GateBias(int layer) => Parameters.AsSpan(Layout.GateBiasOffset(layer), 4 * Config.HiddenSize);

    private ReadOnlySpan<T> ReadoutWeight => Parameters.AsSpan(Layout.ReadoutWeightOffset, Config.Classes * Config.HiddenSize);

    private ReadOnlySpan<T> ReadoutBias => Parameters.AsSpan(Layout.ReadoutBiasOffset, Config.Classes);

    /// <summary>(T, B, d) inputs of a layer: the batch for the first, v_1..v_T of the layer below for the others.</summary>
    private static ReadOnlySpan<T> LayerInputs(Workspace<T> workspace, int layer, int batch)
    {
        int steps = workspace.Steps;
        if (layer == 0)
            return workspace.Inputs.AsSpan(0, steps * batch * workspace.Config.InputSize);
        int state = batch * workspace.Config.HiddenSize;
        return workspace.Outputs[layer - 1].AsSpan(state, steps * state);
    }

    /// <summary>(B, n) v_T of the last layer.</summary>
    private static ReadOnlySpan<T> FinalOutput(Workspace<T> workspace, int batch)
    {
        int state = batch * workspace.Config.HiddenSize;
        return workspace.Outputs[workspace.Config.Layers - 1].AsSpan(workspace.Steps * state, state);
    }

    private void CheckWorkspace(Workspace<T> workspace, int batch)
    {
        if (workspace.Config != Config)
            throw new ArgumentException("the workspace was sized for another model configuration", nameof(workspace));
        if (batch < 1 || batch > workspace.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"the workspace holds batches of 1 to {workspace.MaxBatch}");
    }
}
