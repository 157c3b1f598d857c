using Smnist.Data;
using Smnist.Nn;

namespace Smnist.Training;

/// <summary>Accuracy, mean loss and the confusion matrix (rows: true class, columns: predicted) over a set.</summary>
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

public static class Evaluator
{
    /// <summary>Evaluates <paramref name="model"/> on <paramref name="set"/>, clean or with the training augmentation drawn from <paramref name="seed"/>.</summary>
    public static EvaluationResult Evaluate(SequenceClassifier<float> model, SequenceLayout sequence, ImageSet set,
        bool augment = false, ulong seed = 1, int threads = 0, int batchSize = BatchLoader.DefaultBatchSize)
    {
        using var loader = new BatchLoader(set, sequence, batchSize, shuffle: false, augment, seed);
        using var runner = new BatchRunner(model, sequence.Steps, loader.BatchSize, threads > 0 ? threads : Environment.ProcessorCount);
        return Evaluate(runner, loader);
    }

    internal static EvaluationResult Evaluate(BatchRunner runner, BatchLoader loader)
    {
        int classes = runner.Model.Config.Classes;
        var counts = new int[classes * classes];
        double loss = 0;
        foreach (Batch batch in loader.Epoch(0))
            loss += runner.Evaluate(batch, counts);
        var confusion = new int[classes, classes];
        int correct = 0;
        for (int k = 0; k < classes; k++)
        {
            correct += counts[k * classes + k];
            for (int p = 0; p < classes; p++)
                confusion[k, p] = counts[k * classes + p];
        }
        return new EvaluationResult((double)correct / loader.Count, loss / loader.Count, loader.Count, confusion);
    }
}
