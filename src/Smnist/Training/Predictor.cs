using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>Class probabilities for single examples; for many at once, <see cref="Evaluator"/> batches and threads.</summary>
public static class Predictor
{
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
        var workspace = new Workspace<float>(model.Config, sequence.Steps, maxBatch: 1);
        sequence.Pack(image, size: 1, workspace.Inputs); // (T, 1, d)
        return Run(model, workspace);
    }

    /// <summary>Class probabilities (softmax of the logits) for one sequence of any length.</summary>
    /// <param name="model">The model.</param>
    /// <param name="sequence">(T, d) values, step after step: T = sequence.Length / d, with d the model's input size.</param>
    public static float[] Probabilities(SequenceClassifier<float> model, ReadOnlySpan<float> sequence)
    {
        ArgumentNullException.ThrowIfNull(model);
        int features = model.Config.InputSize;
        if (sequence.Length == 0 || sequence.Length % features != 0)
            throw new ArgumentException($"a sequence is whole steps of {features} values, not {sequence.Length} values", nameof(sequence));
        int steps = sequence.Length / features;
        var workspace = new Workspace<float>(model.Config, steps, maxBatch: 1);
        sequence.CopyTo(workspace.Inputs); // (T, 1, d)
        return Run(model, workspace);
    }

    /// <summary>The most probable class of one sequence of any length; see <see cref="Probabilities(SequenceClassifier{float}, ReadOnlySpan{float})"/>.</summary>
    public static int Predict(SequenceClassifier<float> model, ReadOnlySpan<float> sequence) =>
        TensorPrimitives.IndexOfMax<float>(Probabilities(model, sequence));

    private static float[] Run(SequenceClassifier<float> model, Workspace<float> workspace)
    {
        model.Forward(workspace, batch: 1);
        var probabilities = workspace.Logits.AsSpan(0, model.Config.Classes).ToArray();
        TensorPrimitives.SoftMax(probabilities, probabilities);
        return probabilities;
    }
}
