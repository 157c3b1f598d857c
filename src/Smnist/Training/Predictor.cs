using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Class probabilities for single examples; for many at once, <see cref="Evaluator"/> batches and threads. Each calling
/// thread keeps the buffers of its last call and reuses them for the next that fits, so a thread predicting example
/// after example allocates once per model and longest sequence.
/// </summary>
public static class Predictor
{
    [ThreadStatic]
    private static Workspace<float>? t_workspace;

    /// <summary>Class probabilities (softmax of the logits) for one 28×28 image in MNIST's convention (white digit on black).</summary>
    /// <param name="model">A model trained on images.</param>
    /// <param name="sequence">The view it was trained on.</param>
    /// <param name="image">784 bytes, row-major.</param>
    public static float[] Probabilities(SequenceClassifier<float> model, SequenceLayout sequence, ReadOnlySpan<byte> image)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        sequence.RequireImages();
        if (sequence.View == SequenceView.Strokes)
            return Probabilities(model, StrokeEncoding.Encode(StrokeTracer.Trace(image)));
        Workspace<float> workspace = WorkspaceFor(model.Config, sequence.Steps);
        sequence.Pack(image, size: 1, workspace.Inputs); // (T, 1, d)
        return Run(model, workspace, sequence.Steps);
    }

    /// <summary>Class probabilities (softmax of the logits) for one sequence of any length.</summary>
    /// <param name="model">The model.</param>
    /// <param name="sequence">(T, d) values, step after step: T = sequence.Length / d, with d the model's input size.</param>
    public static float[] Probabilities(SequenceClassifier<float> model, ReadOnlySpan<float> sequence)
    {
        (Workspace<float> workspace, int steps) = Load(model, sequence);
        return Run(model, workspace, steps);
    }

    /// <summary>
    /// The class probabilities at every step of one sequence of any length: element t is what the model would answer
    /// if the sequence stopped after step t (0-based), the last one its answer to the whole. One forward pass; the
    /// same as <see cref="Probabilities(SequenceClassifier{float}, ReadOnlySpan{float})"/> of each prefix.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sequence">(T, d) values, step after step: T = sequence.Length / d, with d the model's input size.</param>
    /// <returns>T arrays of K probabilities.</returns>
    public static float[][] StepProbabilities(SequenceClassifier<float> model, ReadOnlySpan<float> sequence)
    {
        (Workspace<float> workspace, int steps) = Load(model, sequence);
        model.Forward(workspace, [steps], ReadoutAt.EveryStep);
        var probabilities = new float[steps][];
        for (int t = 0; t < steps; t++)
            probabilities[t] = ToProbabilities(workspace.StepLogits(t, example: 0));
        return probabilities;
    }

    /// <summary>The most probable class of one sequence of any length; see <see cref="Probabilities(SequenceClassifier{float}, ReadOnlySpan{float})"/>.</summary>
    public static int Predict(SequenceClassifier<float> model, ReadOnlySpan<float> sequence) =>
        TensorPrimitives.IndexOfMax<float>(Probabilities(model, sequence));

    /// <summary>A workspace of one example holding <paramref name="sequence"/>, (T, d), and T.</summary>
    private static (Workspace<float> Workspace, int Steps) Load(SequenceClassifier<float> model, ReadOnlySpan<float> sequence)
    {
        ArgumentNullException.ThrowIfNull(model);
        int features = model.Config.InputSize;
        if (sequence.Length == 0 || sequence.Length % features != 0)
            throw new ArgumentException($"a sequence is whole steps of {features} values, not {sequence.Length} values", nameof(sequence));
        int steps = sequence.Length / features;
        Workspace<float> workspace = WorkspaceFor(model.Config, steps);
        sequence.CopyTo(workspace.Inputs); // (T, 1, d)
        return (workspace, steps);
    }

    /// <summary>
    /// The calling thread's forward-only workspace of one example when it is for <paramref name="config"/> and holds at
    /// least <paramref name="steps"/> steps; else a new one, kept for the next call.
    /// </summary>
    private static Workspace<float> WorkspaceFor(ModelConfig config, int steps)
    {
        Workspace<float>? workspace = t_workspace;
        if (workspace is null || workspace.Config != config || workspace.MaxSteps < steps)
            t_workspace = workspace = new Workspace<float>(config, steps, maxBatch: 1, gradients: false);
        return workspace;
    }

    private static float[] Run(SequenceClassifier<float> model, Workspace<float> workspace, int steps)
    {
        model.Forward(workspace, [steps], ReadoutAt.LastStep);
        return ToProbabilities(workspace.Logits.AsSpan(0, model.Config.Classes));
    }

    /// <summary>
    /// One step's class probabilities from its <paramref name="logits"/> (the two spans may be the same); logits that
    /// overflowed are refused in one line rather than turned into NaN.
    /// </summary>
    internal static void ToProbabilities(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        // A loaded model's weights keep the logits finite for inputs in [−1, 1] (ModelCheckpoint.MaxRowMagnitude); far larger values can still overflow them.
        foreach (float logit in logits)
        {
            if (!float.IsFinite(logit))
                throw new SmnistException("the model's logits overflow on this sequence: its values are too large for the model's weights");
        }
        Softmax.Apply(logits, probabilities);
    }

    private static float[] ToProbabilities(ReadOnlySpan<float> logits)
    {
        var probabilities = new float[logits.Length];
        ToProbabilities(logits, probabilities);
        return probabilities;
    }
}
