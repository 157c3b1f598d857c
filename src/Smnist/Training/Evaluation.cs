using Smnist.Data;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Accuracy, mean loss and the confusion matrix (rows: true class, columns: predicted) over a set; <see cref="Samples"/>
/// counts its examples, or its labelled steps when the source labels every step.
/// </summary>
public sealed record EvaluationResult(double Accuracy, double Loss, int Samples, int[,] Confusion)
{
    /// <summary>Fraction of each class's examples predicted correctly (NaN for a class with none).</summary>
    public double[] PerClassAccuracy()
    {
        int classes = Confusion.GetLength(0);
        var accuracy = new double[classes];
        for (int k = 0; k < classes; k++)
        {
            int total = 0;
            for (int p = 0; p < classes; p++)
                total += Confusion[k, p];
            accuracy[k] = total == 0 ? double.NaN : (double)Confusion[k, k] / total;
        }
        return accuracy;
    }
}

/// <summary>Measures a model on labelled sequences, batched and multi-threaded as training is.</summary>
public static class Evaluator
{
    /// <summary>Accuracy, mean loss and confusion of <paramref name="model"/> over every example of <paramref name="source"/>.</summary>
    /// <param name="model">The model; only read.</param>
    /// <param name="source">The examples; their steps may differ from training's, their features and classes may not.</param>
    /// <param name="threads">Worker threads; 0 for one per processor. The result is the same for any count.</param>
    /// <param name="batchSize">Examples run at a time.</param>
    public static EvaluationResult Evaluate(SequenceClassifier<float> model, ISequenceSource source, int threads = 0, int batchSize = BatchLoader.DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        if (source.Features != model.Config.InputSize || source.Classes != model.Config.Classes)
            throw new ArgumentException($"the source has {source.Features} features and {source.Classes} classes, the model reads {model.Config.InputSize} and predicts {model.Config.Classes}", nameof(source));
        using var loader = new BatchLoader(source, batchSize, shuffle: false, seed: 0);
        using var runner = new BatchRunner(model, source.Steps, loader.BatchSize, threads > 0 ? threads : Environment.ProcessorCount);
        return Evaluate(runner, loader);
    }

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="set"/>, clean or with the training augmentation drawn from <paramref name="seed"/>.</summary>
    public static EvaluationResult Evaluate(SequenceClassifier<float> model, SequenceLayout sequence, ImageSet set,
        bool augment = false, ulong seed = 1, int threads = 0, int batchSize = BatchLoader.DefaultBatchSize) =>
        Evaluate(model, ImageSequences.Source(set, sequence, augment, seed), threads, batchSize);

    internal static EvaluationResult Evaluate(BatchRunner runner, BatchLoader loader)
    {
        int classes = runner.Model.Config.Classes;
        var counts = new int[classes * classes];
        double loss = 0;
        int scored = 0;
        foreach (Batch batch in loader.Epoch(0))
        {
            (double batchLoss, int batchScored) = runner.Evaluate(batch, counts);
            loss += batchLoss;
            scored += batchScored;
        }
        var confusion = new int[classes, classes];
        int correct = 0;
        for (int k = 0; k < classes; k++)
        {
            correct += counts[k * classes + k];
            for (int p = 0; p < classes; p++)
                confusion[k, p] = counts[k * classes + p];
        }
        return new EvaluationResult((double)correct / scored, loss / scored, scored, confusion);
    }
}
