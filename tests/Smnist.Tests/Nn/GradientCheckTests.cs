using Smnist.Data;
using Smnist.Nn;

namespace Smnist.Tests.Nn;

/// <summary>Backpropagation through time against central finite differences, in double precision.</summary>
[Trait("Category", "unit")]
public class GradientCheckTests
{
    public static TheoryData<int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (int d in new[] { 1, 2 })
        {
            foreach (int n in new[] { 1, 2 })
            {
                foreach (int steps in new[] { 1, 2 })
                {
                    foreach (int layers in new[] { 1, 2 })
                    {
                        foreach (int batch in new[] { 1, 3, 32 })
                            data.Add(d, n, steps, layers, batch);
                    }
                }
            }
        }
        // Enough rows that the passes take the timesteps in several chunks (2, then 1: LstmCell.ChunkSteps).
        data.Add(2, 2, 3, 2, 100);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryParameterTensorMatchesFiniteDifferences(int inputSize, int hiddenSize, int steps, int layers, int batch)
    {
        var config = new ModelConfig(inputSize, hiddenSize, layers, Classes: 3);
        var model = SequenceClassifier<double>.Initialize(config, seed: (ulong)(inputSize * 1000 + hiddenSize * 100 + steps * 10 + layers));
        var random = DeterministicRandom.For(42, RandomStreams.Synthetic, 0);
        // Wider weights than the initial ±1/√fan_in drive the gates away from 0.5, where mistakes would hide.
        for (int k = 0; k < model.Parameters.Length; k++)
            model.Parameters[k] = random.NextDouble() * 3 - 1.5;
        var workspace = new Workspace<double>(config, steps, batch);
        for (int k = 0; k < steps * batch * inputSize; k++)
            workspace.Inputs[k] = random.NextDouble() * 2 - 1;
        int[] labels = Enumerable.Range(0, batch).Select(b => (b * 7 + 1) % config.Classes).ToArray();

        double MeanLoss()
        {
            model.Forward(workspace, batch);
            return model.Loss(workspace, labels) / batch;
        }

        MeanLoss();
        var analytic = new double[model.Parameters.Length];
        model.Backward(workspace, labels, 1.0 / batch, analytic);
        AssertMatchesFiniteDifferences(model, analytic, MeanLoss);
    }

    public static TheoryData<int, string, bool> RaggedShapes() => new()
    {
        { 1, "3,1,2", false },
        { 2, "4,1,3,4,2", false },
        { 2, "1,1", false },
        { 1, "3,1,2", true },
        { 2, "4,1,3,4,2", true },
    };

    /// <summary>
    /// Sequences of mixed lengths in one batch, length 1 included, with one label per sequence (read out at its own
    /// last step) or per step (some steps unlabelled): the loss and its gradient see no padding.
    /// </summary>
    [Theory]
    [MemberData(nameof(RaggedShapes))]
    public void RaggedBatchesMatchFiniteDifferences(int layers, string lengthList, bool labelsPerStep)
    {
        int[] lengths = RaggedPacking.SortedLengths(lengthList.Split(',').Select(int.Parse).ToArray());
        int batch = lengths.Length, steps = lengths[0];
        var config = new ModelConfig(InputSize: 2, HiddenSize: 3, layers, Classes: 3);
        var model = SequenceClassifier<double>.Initialize(config, seed: 9);
        var random = DeterministicRandom.For(43, RandomStreams.Synthetic, 0);
        for (int k = 0; k < model.Parameters.Length; k++)
            model.Parameters[k] = random.NextDouble() * 3 - 1.5;
        var workspace = new Workspace<double>(config, steps, batch);
        int rows = lengths.Sum();
        for (int k = 0; k < rows * config.InputSize; k++)
            workspace.Inputs[k] = random.NextDouble() * 2 - 1;
        // Per step: every third step unlabelled; per sequence: one class each.
        int[] labels = labelsPerStep
            ? Enumerable.Range(0, rows).Select(r => r % 3 == 1 ? SequenceLabels.None : (r * 5 + 2) % config.Classes).ToArray()
            : Enumerable.Range(0, batch).Select(b => (b * 7 + 1) % config.Classes).ToArray();
        int scored = RaggedPacking.Labelled(labels);
        ReadoutAt readout = labelsPerStep ? ReadoutAt.EveryStep : ReadoutAt.LastStep;

        double MeanLoss()
        {
            model.Forward(workspace, lengths, readout);
            return model.Loss(workspace, labels) / scored;
        }

        MeanLoss();
        var analytic = new double[model.Parameters.Length];
        model.Backward(workspace, labels, 1.0 / scored, analytic);
        AssertMatchesFiniteDifferences(model, analytic, MeanLoss);
    }

    private static void AssertMatchesFiniteDifferences(SequenceClassifier<double> model, double[] analytic, Func<double> meanLoss)
    {
        // Five-point central differences: truncation error O(h⁴), so a large step keeps rounding error small too.
        const double h = 1e-3;
        foreach (ParameterTensor tensor in model.Layout.Tensors)
        {
            var numeric = new double[tensor.Length];
            for (int k = 0; k < tensor.Length; k++)
            {
                int index = tensor.Offset + k;
                double saved = model.Parameters[index];
                double LossAt(double offset)
                {
                    model.Parameters[index] = saved + offset;
                    return meanLoss();
                }
                numeric[k] = (8 * (LossAt(h) - LossAt(-h)) - (LossAt(2 * h) - LossAt(-2 * h))) / (12 * h);
                model.Parameters[index] = saved;
            }
            double error = RelativeError(analytic.AsSpan(tensor.Offset, tensor.Length), numeric);
            Assert.True(error < 1e-6, $"{tensor.Name}: relative error {error:E2}");
        }
    }

    /// <summary>‖a − b‖ / max(‖a‖, ‖b‖), with a floor so that an all-but-zero gradient compares absolutely.</summary>
    private static double RelativeError(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double difference = 0, normA = 0, normB = 0;
        for (int k = 0; k < a.Length; k++)
        {
            difference += (a[k] - b[k]) * (a[k] - b[k]);
            normA += a[k] * a[k];
            normB += b[k] * b[k];
        }
        return Math.Sqrt(difference) / Math.Max(Math.Sqrt(Math.Max(normA, normB)), 1e-6);
    }
}
