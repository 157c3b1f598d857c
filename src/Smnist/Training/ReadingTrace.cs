using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// How a model reads one image, step by step: after <see cref="Read"/>, for every timestep t = 1..T and every
/// layer, the activated gates f, i (r for a UR-LSTM), o, c̃, the fractions of memory kept and written, the cell state c_t and the output v_t of every unit, and the ten class
/// probabilities softmax(R v_t + r) the readout would give if the sequence stopped at t. One forward pass that
/// reads out every step; all buffers are allocated once, so one instance reads image after image without
/// allocating. Not thread-safe: one instance per concurrent reader (the model itself is shared read-only).
/// </summary>
public sealed class ReadingTrace
{
    private readonly SequenceClassifier<float> _model;
    private readonly PackedGateWeights? _packed;
    private readonly Workspace<float> _workspace;
    private readonly float[] _input;             // (784) the image in 0..1, row-major
    private readonly float[] _stepProbabilities; // (T, K)
    private readonly int[] _length;              // (1) the one sequence's length, T
    private readonly float[] _effectiveForget;   // (L, T, n) g_t of a UR-LSTM; empty for the LSTM
    private readonly float[] _effectiveInput;    // (L, T, n) 1 − g_t of a UR-LSTM; empty for the LSTM

    /// <summary>A trace of <paramref name="model"/> reading images in the <paramref name="sequence"/> view.</summary>
    /// <param name="model">The model; shared read-only.</param>
    /// <param name="sequence">The view the model was trained on.</param>
    /// <param name="packed">The model's recurrent weights already packed (shared by all traces of one model), or null.</param>
    public ReadingTrace(SequenceClassifier<float> model, SequenceLayout sequence, PackedGateWeights? packed = null)
    {
        sequence.RequireImages();
        if (sequence.Features != model.Config.InputSize)
            throw new ArgumentException($"the {sequence.Name} view feeds {sequence.Features} features, the model reads {model.Config.InputSize}", nameof(sequence));
        if (packed is not null && packed.Config != model.Config)
            throw new ArgumentException("the packed weights were sized for another model configuration", nameof(packed));
        _model = model;
        _packed = packed;
        Sequence = sequence;
        Steps = sequence.Steps;
        _workspace = new Workspace<float>(model.Config, sequence.Steps, maxBatch: 1, gradients: false);
        _input = new float[ImageSet.Pixels];
        _stepProbabilities = new float[sequence.Steps * model.Config.Classes];
        _length = [sequence.Steps];
        int effectiveValues = model.Config.RefineGate ? model.Config.Layers * sequence.Steps * model.Config.HiddenSize : 0;
        _effectiveForget = new float[effectiveValues];
        _effectiveInput = new float[effectiveValues];
    }

    /// <summary>The traced model's sizes.</summary>
    public ModelConfig Config => _model.Config;

    /// <summary>The view images are read in.</summary>
    public SequenceLayout Sequence { get; }

    /// <summary>T, the number of timesteps read: the view's, or for strokes the last image's path length.</summary>
    public int Steps { get; private set; }

    /// <summary>For the strokes view, the pen path of the last image read (one step per point); null for the other views.</summary>
    public PenTrace? Pen { get; private set; }

    /// <summary>The class the model gives at the last step.</summary>
    public int Digit { get; private set; }

    /// <summary>
    /// The first timestep t (1..T) from which the most probable class is the final <see cref="Digit"/> at every
    /// later step: the answer no longer changes after it.
    /// </summary>
    public int DecidedAt { get; private set; }

    /// <summary>(784) the image as read: row-major, 0 = background, 1 = full ink.</summary>
    public ReadOnlySpan<float> Input => _input;

    /// <summary>(K) the class probabilities at the last step: the model's output.</summary>
    public ReadOnlySpan<float> Probabilities => StepProbabilities(Steps);

    /// <summary>Runs the model on one 28×28 image in MNIST's convention (white digit on black) and records the trace.</summary>
    public void Read(ReadOnlySpan<byte> image)
    {
        if (Sequence.ReadsPixels)
        {
            Sequence.Pack(image, size: 1, _workspace.Inputs);
        }
        else
        {
            // A path ends before the view's T_max: read only its own steps (those after it are zeros, never traced).
            Pen = StrokeTracer.Trace(image);
            Steps = StrokeEncoding.StepsOf(Pen);
            Span<float> inputs = _workspace.Inputs.AsSpan(0, Sequence.Steps * Sequence.Features); // (T_max, 1, d)
            inputs.Clear();
            StrokeEncoding.Encode(Pen, inputs);
        }
        for (int pixel = 0; pixel < ImageSet.Pixels; pixel++)
            _input[pixel] = image[pixel] / 255f;
        _model.Forward(_workspace, _length, ReadoutAt.EveryStep, _packed);
        int classes = Config.Classes;
        for (int t = 0; t < Steps; t++)
        {
            Span<float> row = _stepProbabilities.AsSpan(t * classes, classes);
            _workspace.StepLogits(t, example: 0).CopyTo(row);
            Softmax.Apply(row, row);
        }

        if (Config.RefineGate)
            ComputeEffectiveGates();
        Digit = TensorPrimitives.IndexOfMax(Probabilities);
        int decided = Steps;
        while (decided > 1 && TensorPrimitives.IndexOfMax(StepProbabilities(decided - 1)) == Digit)
            decided--;
        DecidedAt = decided;
    }

    /// <summary>(K) the class probabilities if the sequence stopped at timestep <paramref name="t"/> (1..T).</summary>
    public ReadOnlySpan<float> StepProbabilities(int t)
    {
        CheckStep(t);
        int classes = Config.Classes;
        return _stepProbabilities.AsSpan((t - 1) * classes, classes);
    }

    /// <summary>
    /// (n) the activated gate <paramref name="gate"/> (<see cref="ParameterLayout.Forget"/>, Input (or
    /// <see cref="ParameterLayout.Refine"/> of a UR-LSTM), Output or Candidate) of <paramref name="layer"/> at timestep <paramref name="t"/> (1..T).
    /// </summary>
    public ReadOnlySpan<float> Gate(int layer, int gate, int t)
    {
        CheckStep(t);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)gate, (uint)ParameterLayout.Candidate, nameof(gate));
        int n = Config.HiddenSize;
        return _workspace.GatesAt(CheckLayer(layer), t - 1, example: 0).Slice(gate * n, n);
    }

    /// <summary>
    /// (n) the fraction of c_{t−1} that <paramref name="layer"/>'s cells keep at timestep <paramref name="t"/> (1..T):
    /// the forget gate f_t of an LSTM, the effective forget gate g_t of a UR-LSTM (<see cref="ModelConfig.RefineGate"/>).
    /// </summary>
    public ReadOnlySpan<float> EffectiveForgetGate(int layer, int t) =>
        Config.RefineGate ? EffectiveSlice(_effectiveForget, layer, t) : Gate(layer, ParameterLayout.Forget, t);

    /// <summary>
    /// (n) the fraction of c̃_t that <paramref name="layer"/>'s cells write at timestep <paramref name="t"/> (1..T):
    /// the input gate i_t of an LSTM, 1 − g_t of a UR-LSTM.
    /// </summary>
    public ReadOnlySpan<float> EffectiveInputGate(int layer, int t) =>
        Config.RefineGate ? EffectiveSlice(_effectiveInput, layer, t) : Gate(layer, ParameterLayout.Input, t);

    /// <summary>(n) the cell state c_t of <paramref name="layer"/> (t in 1..T).</summary>
    public ReadOnlySpan<float> Cell(int layer, int t)
    {
        CheckStep(t);
        return _workspace.CellAt(CheckLayer(layer), t - 1, example: 0);
    }

    /// <summary>(n) the output v_t of <paramref name="layer"/> (t in 1..T).</summary>
    public ReadOnlySpan<float> Output(int layer, int t)
    {
        CheckStep(t);
        return _workspace.OutputAt(CheckLayer(layer), t - 1, example: 0);
    }

    /// <summary>g_t and 1 − g_t of every layer and step read, from the forget and refine gates.</summary>
    private void ComputeEffectiveGates()
    {
        int n = Config.HiddenSize;
        for (int layer = 0; layer < Config.Layers; layer++)
        {
            for (int t = 1; t <= Steps; t++)
            {
                int offset = (layer * Sequence.Steps + t - 1) * n;
                Span<float> kept = _effectiveForget.AsSpan(offset, n), written = _effectiveInput.AsSpan(offset, n);
                LstmCell.EffectiveGate(Gate(layer, ParameterLayout.Forget, t), Gate(layer, ParameterLayout.Refine, t), kept);
                TensorPrimitives.Subtract(1f, kept, written);
            }
        }
    }

    private ReadOnlySpan<float> EffectiveSlice(float[] values, int layer, int t)
    {
        CheckStep(t);
        int n = Config.HiddenSize;
        return values.AsSpan((CheckLayer(layer) * Sequence.Steps + t - 1) * n, n);
    }

    private void CheckStep(int t)
    {
        if (t < 1 || t > Steps)
            throw new ArgumentOutOfRangeException(nameof(t), t, $"timesteps run from 1 to {Steps}");
    }

    private int CheckLayer(int layer)
    {
        if ((uint)layer >= (uint)Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0 to {Config.Layers - 1}");
        return layer;
    }
}
