using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Reads one stream a step at a time and keeps its state between steps: <see cref="Reset"/>, then
/// <see cref="Step"/> with each x_t as it arrives, which answers the class probabilities the model gives after that
/// step — what <see cref="Predictor.StepProbabilities"/> gives for the whole sequence at once. Allocates nothing per
/// step, but for the packed weights of a reader given none, at its first step. The model is shared read-only, so
/// many readers (one per connection, say) can read one model on many threads at once; one reader is for one thread
/// at a time.
/// </summary>
public sealed class StreamingReader
{
    private readonly SequenceClassifier<float> _model;
    private readonly PackedGateWeights? _packed;
    private readonly Workspace<float> _workspace; // one step of one example, holding the state it carries
    private readonly float[] _probabilities;      // (K)

    /// <summary>A reader of <paramref name="model"/>, at the start of a stream.</summary>
    /// <param name="model">The model; only read, and shared by every reader of it.</param>
    /// <param name="packed">
    /// The model's gate weights already packed (shared by all readers of one model), or null: the reader then packs
    /// its own at the first step of each stream, so a change to the model's weights takes effect at the next
    /// <see cref="Reset"/>.
    /// </param>
    public StreamingReader(SequenceClassifier<float> model, PackedGateWeights? packed = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (packed is not null && packed.Config != model.Config)
            throw new ArgumentException("the packed weights were sized for another model configuration", nameof(packed));
        _model = model;
        _packed = packed;
        _workspace = new Workspace<float>(model.Config, steps: 1, maxBatch: 1, gradients: false);
        _probabilities = new float[model.Config.Classes];
    }

    /// <summary>The reader's model sizes; each step has <see cref="ModelConfig.InputSize"/> values.</summary>
    public ModelConfig Config => _model.Config;

    /// <summary>Steps read since the last <see cref="Reset"/>.</summary>
    public int StepsRead { get; private set; }

    /// <summary>Starts a new stream: the next step is read from the zero state, as the first step of a sequence.</summary>
    public void Reset() => StepsRead = 0;

    /// <summary>
    /// Reads the next step x_t (d values) and returns the (K) class probabilities after it. The returned span is the
    /// reader's own buffer, overwritten by the next step.
    /// </summary>
    public ReadOnlySpan<float> Step(ReadOnlySpan<float> input)
    {
        if (input.Length != Config.InputSize)
            throw new ArgumentException($"a step has {Config.InputSize} values, not {input.Length}", nameof(input));
        foreach (float value in input)
        {
            if (!float.IsFinite(value))
                throw new ArgumentException("a step's values must be finite numbers", nameof(input));
        }
        input.CopyTo(_workspace.Inputs);
        _model.ForwardStreamStep(_workspace, first: StepsRead == 0, _packed);
        StepsRead++;
        Predictor.ToProbabilities(_workspace.Logits.AsSpan(0, Config.Classes), _probabilities);
        return _probabilities;
    }
}
