using System.Numerics;
using Smnist.Data;

namespace Smnist.Nn;

/// <summary>Where a forward pass reads the classes out: at each sequence's own last step, or at every step.</summary>
internal enum ReadoutAt
{
    LastStep,
    EveryStep,
}

/// <summary>
/// The seed's network: L stacked LSTM layers (layer l > 0 reads layer l−1's outputs) and a linear readout of the
/// last layer's output at each sequence's own last step (or at every step, for per-step labels). Parameters live in
/// one flat buffer laid out by <see cref="ParameterLayout"/>. Generic so the same code runs in float for training and in double for the gradient checks.
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
    /// <paramref name="inputBias"/> the input-gate biases (the refine gate's, with <see cref="ModelConfig.RefineGate"/>);
    /// the draws are the same either way. <paramref name="gateInit"/> <see cref="GateInit.Chrono"/> or
    /// <see cref="GateInit.Uniform"/> then draws the forget biases from a stream of their own, b_f per unit and −b_f
    /// for the input (or refine) gate, in place of those constants; chrono's T_max is <paramref name="sequenceSteps"/>.
    /// </summary>
    public static SequenceClassifier<T> Initialize(ModelConfig config, ulong seed, double? forgetBias = null, double? inputBias = null,
        GateInit gateInit = GateInit.Constant, int sequenceSteps = 0)
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
            if (inputBias is double input && tensor.Name.EndsWith($".{model.Layout.Gates[ParameterLayout.Input]}.bias", StringComparison.Ordinal))
                values.Fill(T.CreateTruncating((float)input));
        }
        if (gateInit != GateInit.Constant)
            model.DrawGateBiases(gateInit, seed, sequenceSteps);
        return model;
    }

    /// <summary>Per layer and unit: b_f from <paramref name="gateInit"/>'s distribution, and −b_f for the input (or refine) gate.</summary>
    private void DrawGateBiases(GateInit gateInit, ulong seed, int sequenceSteps)
    {
        if (gateInit == GateInit.Chrono && sequenceSteps < 2)
            throw new SmnistException($"chrono initialisation draws from U(1, T_max - 1); it needs sequences of at least 2 steps, not {sequenceSteps}");
        int n = Config.HiddenSize;
        // U(1/n, 1 − 1/n) is the point 1/2 for n ≤ 2.
        double low = Math.Min(1.0 / n, 0.5), high = Math.Max(1 - 1.0 / n, 0.5);
        var random = DeterministicRandom.For(seed, RandomStreams.GateInitialization, 0);
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            Span<T> bias = Parameters.AsSpan(Layout.GateBiasOffset(layer), 4 * n); // (4n) f, i or r, o, c̃
            for (int k = 0; k < n; k++)
            {
                double forget = gateInit switch
                {
                    GateInit.Chrono => Math.Log(random.NextDouble(1, sequenceSteps - 1)),
                    GateInit.Uniform => Logit(random.NextDouble(low, high)),
                    _ => throw new ArgumentOutOfRangeException(nameof(gateInit), gateInit, null),
                };
                bias[ParameterLayout.Forget * n + k] = T.CreateTruncating((float)forget);
                bias[ParameterLayout.Input * n + k] = T.CreateTruncating((float)-forget);
            }
        }
    }

    /// <summary>σ⁻¹(u) = log(u / (1 − u)).</summary>
    private static double Logit(double u) => Math.Log(u / (1 - u));

    /// <summary>The kernels every pass of this model computes with, on whichever thread it runs.</summary>
    internal KernelSet Kernels { get; set; } = KernelSet.Fast;

    /// <summary>
    /// Runs the network on <paramref name="workspace"/>'s inputs, <paramref name="batch"/> sequences of the
    /// workspace's full length, (T, B, d); the logits of each one's last step land in its (B, K) Logits.
    /// <paramref name="packed"/> (float only) must hold the current gate weights.
    /// </summary>
    internal void Forward(Workspace<T> workspace, int batch, PackedGateWeights? packed = null)
    {
        CheckWorkspace(workspace);
        workspace.Steps.SetFull(batch, workspace.MaxSteps);
        Run(workspace, ReadoutAt.LastStep, packed);
    }

    /// <summary>
    /// Runs the network on a batch of sequences of the given <paramref name="lengths"/> (descending, one per
    /// example), whose steps the caller has packed into the workspace's Inputs as <see cref="PackedSteps"/> lays them
    /// out. Logits land in the workspace's Logits: (B, K), each example's from its own last step, or (rows, K), one
    /// per real step, with <see cref="ReadoutAt.EveryStep"/>.
    /// </summary>
    internal void Forward(Workspace<T> workspace, ReadOnlySpan<int> lengths, ReadoutAt readout, PackedGateWeights? packed = null)
    {
        CheckWorkspace(workspace);
        workspace.Steps.Set(lengths);
        Run(workspace, readout, packed);
    }

    /// <summary>
    /// One step of the single stream a workspace of one step and one example holds: its Inputs hold x_t (d), and the
    /// state is the one the previous step left, or zeros when <paramref name="first"/>. The (K) logits land in Logits.
    /// Without <paramref name="packed"/> weights, the stream's first step packs them into the workspace and its later
    /// steps reuse them.
    /// </summary>
    internal void ForwardStreamStep(Workspace<T> workspace, bool first, PackedGateWeights? packed = null)
    {
        CheckWorkspace(workspace);
        if (workspace.MaxSteps != 1 || workspace.MaxBatch != 1)
            throw new ArgumentException("a stream steps a workspace of one step and one example", nameof(workspace));
        if (first)
            workspace.Steps.SetFull(batch: 1, steps: 1);
        int n = Config.HiddenSize;
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            // (2, n) cells and outputs: c_{t-1}, v_{t-1} in row 0, the step writes c_t, v_t into row 1.
            foreach (ArraySegment<T> state in (ReadOnlySpan<ArraySegment<T>>)[workspace.Cells[layer], workspace.Outputs[layer]])
            {
                if (first)
                    state.AsSpan(0, n).Clear();
                else
                    state.AsSpan(n, n).CopyTo(state.AsSpan());
            }
        }
        RunLayers(workspace, ReadoutAt.LastStep, packed, packWeights: first);
    }

    /// <summary>
    /// The summed cross-entropy of the last forward pass against <paramref name="labels"/>: (B) classes, or after a
    /// pass that read out every step, (rows) per-step classes packed as the steps are, <see cref="SequenceLabels.None"/>
    /// for a step without a label.
    /// </summary>
    internal double Loss(Workspace<T> workspace, ReadOnlySpan<int> labels)
    {
        (int rows, bool everyStep) = ReadoutRows(workspace);
        return CrossEntropy.Forward<T>(workspace.Logits, labels, rows, Config.Classes, allowUnlabelled: everyStep);
    }

    /// <summary>
    /// Backpropagation through time after <see cref="Forward(Workspace{T}, ReadOnlySpan{int}, ReadoutAt, PackedGateWeights?)"/>:
    /// writes the gradient of <paramref name="lossScale"/> · Σ cross-entropy against <paramref name="labels"/> (as
    /// for <see cref="Loss"/>) into <paramref name="gradient"/> (laid out as <see cref="Parameters"/>; every entry
    /// overwritten). A mean over a batch split between workers uses lossScale = 1 / (the whole batch's examples, or
    /// labelled steps). <paramref name="packed"/> as for Forward.
    /// </summary>
    internal void Backward(Workspace<T> workspace, ReadOnlySpan<int> labels, T lossScale, Span<T> gradient, PackedGateWeights? packed = null)
    {
        CheckWorkspace(workspace);
        if (!workspace.HasGradients)
            throw new ArgumentException("the workspace was made for forward passes alone", nameof(workspace));
        if (gradient.Length != Layout.Count)
            throw new ArgumentException($"the gradient needs {Layout.Count} entries, not {gradient.Length}", nameof(gradient));
        ModelConfig config = Config;
        PackedSteps steps = workspace.Steps;
        int n = config.HiddenSize, classes = config.Classes, batch = steps.Batch, totalRows = steps.TotalRows;
        (int readoutRows, bool everyStep) = ReadoutRows(workspace);

        CrossEntropy.Backward<T>(workspace.LogitsGrad, workspace.Logits, labels, lossScale, readoutRows, classes, allowUnlabelled: everyStep);
        Span<T> outputGrad = workspace.OutputGrad.AsSpan(0, totalRows * n);
        Span<T> readoutWeightGrad = gradient.Slice(Layout.ReadoutWeightOffset, classes * n), readoutBiasGrad = gradient.Slice(Layout.ReadoutBiasOffset, classes);
        if (everyStep)
        {
            Readout.Backward<T>(Kernels, readoutWeightGrad, readoutBiasGrad, outputGrad, workspace.LogitsGrad, StepOutputs(workspace), ReadoutWeight, totalRows, n, classes);
        }
        else
        {
            // Each example's output gradient enters at its own last step; no other step of the top layer gets one from the readout.
            Readout.Backward<T>(Kernels, readoutWeightGrad, readoutBiasGrad, workspace.FinalOutputGrad, workspace.LogitsGrad, workspace.FinalOutputs, ReadoutWeight, batch, n, classes);
            outputGrad.Clear();
            for (int b = 0; b < batch; b++)
                workspace.FinalOutputGrad.AsSpan(b * n, n).CopyTo(outputGrad.Slice(steps.LastRow(b) * n, n));
        }

        Span<T> lowerGrad = workspace.LowerOutputGrad.AsSpan(0, config.Layers > 1 ? totalRows * n : 0);
        for (int layer = config.Layers - 1; layer >= 0; layer--)
        {
            int d = config.LayerInputSize(layer);
            var gradients = new LayerGradients<T>(
                gradient.Slice(Layout.GateWeightOffset(layer), 4 * n * (n + d)), gradient.Slice(Layout.GateBiasOffset(layer), 4 * n), layer > 0 ? lowerGrad : []);
            LstmCell.Backward<T>(Kernels, gradients, workspace.Scratch, outputGrad, workspace.Activations(layer),
                LayerInputs(workspace, layer), GateWeight(layer), steps, d, n, config.RefineGate, packed?.Backward(layer));
            Span<T> swap = outputGrad;
            outputGrad = lowerGrad;
            lowerGrad = swap;
        }
    }

    private void Run(Workspace<T> workspace, ReadoutAt readout, PackedGateWeights? packed)
    {
        int n = Config.HiddenSize, batch = workspace.Steps.Batch;
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            workspace.Cells[layer].AsSpan(0, batch * n).Clear();
            workspace.Outputs[layer].AsSpan(0, batch * n).Clear();
        }
        RunLayers(workspace, readout, packed, packWeights: true);
    }

    /// <summary>
    /// Every layer from the initial states in the workspace, then the readout. Without <paramref name="packed"/> weights
    /// (float only), the products read the workspace's packed copy of each layer's gate weight, packed first when
    /// <paramref name="packWeights"/>: once per pass rather than inside each timestep's product.
    /// </summary>
    private void RunLayers(Workspace<T> workspace, ReadoutAt readout, PackedGateWeights? packed, bool packWeights)
    {
        if (packed is not null && packed.Config != Config)
            throw new ArgumentException("the packed weights were sized for another model configuration", nameof(packed));
        packed ??= WorkspaceWeights(workspace, packWeights);
        ModelConfig config = Config;
        PackedSteps steps = workspace.Steps;
        int n = config.HiddenSize;
        for (int layer = 0; layer < config.Layers; layer++)
        {
            LstmCell.Forward<T>(Kernels, workspace.Activations(layer), workspace.ChunkInputs, LayerInputs(workspace, layer),
                GateWeight(layer), GateBias(layer), steps, config.LayerInputSize(layer), n, config.RefineGate, packed?.Forward(layer));
        }
        workspace.Readout = readout;
        if (readout == ReadoutAt.EveryStep)
        {
            Readout.Forward<T>(Kernels, workspace.Logits, StepOutputs(workspace), ReadoutWeight, ReadoutBias, steps.TotalRows, n, config.Classes);
            return;
        }
        ReadOnlySpan<T> outputs = StepOutputs(workspace);
        for (int b = 0; b < steps.Batch; b++)
            outputs.Slice(steps.LastRow(b) * n, n).CopyTo(workspace.FinalOutputs.AsSpan(b * n, n));
        Readout.Forward<T>(Kernels, workspace.Logits, workspace.FinalOutputs, ReadoutWeight, ReadoutBias, steps.Batch, n, config.Classes);
    }

    /// <summary>(4n, n+d) the stacked gate weights of <paramref name="layer"/>.</summary>
    internal ReadOnlySpan<T> GateWeight(int layer) =>
        Parameters.AsSpan(Layout.GateWeightOffset(layer), 4 * Config.HiddenSize * (Config.HiddenSize + Config.LayerInputSize(layer)));

    private ReadOnlySpan<T> GateBias(int layer) => Parameters.AsSpan(Layout.GateBiasOffset(layer), 4 * Config.HiddenSize);

    private ReadOnlySpan<T> ReadoutWeight => Parameters.AsSpan(Layout.ReadoutWeightOffset, Config.Classes * Config.HiddenSize);

    private ReadOnlySpan<T> ReadoutBias => Parameters.AsSpan(Layout.ReadoutBiasOffset, Config.Classes);

    /// <summary>(rows, d) inputs of a layer: the batch's steps for the first, v_t of the layer below for the others.</summary>
    private static ReadOnlySpan<T> LayerInputs(Workspace<T> workspace, int layer) =>
        layer == 0
            ? workspace.Inputs.AsSpan(0, workspace.Steps.TotalRows * workspace.Config.InputSize)
            : workspace.StepOutputs(layer - 1);

    /// <summary>(rows, n) v_t of the last layer at every real step.</summary>
    private static ReadOnlySpan<T> StepOutputs(Workspace<T> workspace) => workspace.StepOutputs(workspace.Config.Layers - 1);

    /// <summary>The rows the last pass read out: B, or every real step's.</summary>
    private static (int Rows, bool EveryStep) ReadoutRows(Workspace<T> workspace) =>
        workspace.Readout == ReadoutAt.EveryStep ? (workspace.Steps.TotalRows, true) : (workspace.Steps.Batch, false);

    /// <summary>The workspace's packed copy of the gate weights, packed now when <paramref name="pack"/> (float only; null otherwise).</summary>
    private PackedGateWeights? WorkspaceWeights(Workspace<T> workspace, bool pack)
    {
        if (this is not SequenceClassifier<float> model)
            return null;
        PackedGateWeights weights = workspace.ForwardWeights;
        if (pack)
            weights.Pack(model);
        return weights;
    }

    private void CheckWorkspace(Workspace<T> workspace)
    {
        if (workspace.Config != Config)
            throw new ArgumentException("the workspace was sized for another model configuration", nameof(workspace));
    }
}
