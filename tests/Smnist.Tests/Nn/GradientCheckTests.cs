using Smnist.Data;
using Smnist.Nn;
using Xunit.Abstractions;

namespace Smnist.Tests.Nn;

/// <summary>Backpropagation through time against central finite differences, in double precision.</summary>
[Trait("Category", "unit")]
public class GradientCheckTests(ITestOutputHelper output)
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
            workspace.Inputs.AsSpan()[k] = random.NextDouble() * 2 - 1;
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
        var config = new ModelConfig(InputSize: 2, HiddenSize: 3, layers, Classes: 3);
        var model = SequenceClassifier<double>.Initialize(config, seed: 9);
        var random = DeterministicRandom.For(43, RandomStreams.Synthetic, 0);
        for (int k = 0; k < model.Parameters.Length; k++)
            model.Parameters[k] = random.NextDouble() * 3 - 1.5;
        AssertPackedBatchMatchesFiniteDifferences(model, lengths, labelsPerStep, random);
    }

    public static TheoryData<bool, GateInit, int, string, bool> GateShapes() => new()
    {
        { true, GateInit.Constant, 1, "3,3,3", false },
        { true, GateInit.Constant, 2, "4,1,3,4,2", false },
        { true, GateInit.Uniform, 2, "4,1,3,4,2", true },
        { true, GateInit.Chrono, 1, "5,2,5", false },
        { true, GateInit.Uniform, 1, "2*130", false },
        { false, GateInit.Uniform, 1, "3,3", false },
        { false, GateInit.Chrono, 2, "4,2,3", true },
    };

    /// <summary>
    /// The refine gate (UR-LSTM) and the chrono and uniform gate biases: full and ragged batches, one label per
    /// sequence or per step, and for the refine gate 130 sequences of 2 steps ("length*count") that the backward pass takes in
    /// two chunks.
    /// The gate biases keep the initialisation's draw (the chrono ones saturate the gates most); every other
    /// parameter is drawn wider, as above. Five units: a vector of doubles and a scalar tail.
    /// </summary>
    [Theory]
    [MemberData(nameof(GateShapes))]
    public void GateVariantsMatchFiniteDifferences(bool refineGate, GateInit gateInit, int layers, string lengthList, bool labelsPerStep)
    {
        int[] lengths = RaggedPacking.SortedLengths(lengthList.Split(',')
            .SelectMany(part => part.Split('*') is [string length, string count] ? Enumerable.Repeat(int.Parse(length), int.Parse(count)) : [int.Parse(part)])
            .ToArray());
        var config = new ModelConfig(InputSize: 2, HiddenSize: 5, layers, Classes: 3) { RefineGate = refineGate };
        var model = SequenceClassifier<double>.Initialize(config, seed: 10, forgetBias: 1, gateInit: gateInit, sequenceSteps: 40);
        var random = DeterministicRandom.For(44, RandomStreams.Synthetic, 0);
        foreach (ParameterTensor tensor in model.Layout.Tensors)
        {
            bool drawnBias = gateInit != GateInit.Constant
                && (tensor.Name.EndsWith(".forget.bias", StringComparison.Ordinal) || tensor.Name.EndsWith($".{model.Layout.Gates[ParameterLayout.Input]}.bias", StringComparison.Ordinal));
            for (int k = 0; k < tensor.Length && !drawnBias; k++)
                model.Parameters[tensor.Offset + k] = random.NextDouble() * 3 - 1.5;
        }
        double error = AssertPackedBatchMatchesFiniteDifferences(model, lengths, labelsPerStep, random);
        output.WriteLine($"largest relative error of a tensor's gradient: {error:E2}");
    }

    /// <summary>
    /// Draws inputs and labels for a packed batch of <paramref name="lengths"/> (sorted, longest first) and checks
    /// the gradient of the mean loss, read out at each sequence's last step or at every step; returns the largest
    /// relative error.
    /// </summary>
    private static double AssertPackedBatchMatchesFiniteDifferences(SequenceClassifier<double> model, int[] lengths, bool labelsPerStep, DeterministicRandom random)
    {
        ModelConfig config = model.Config;
        int batch = lengths.Length, rows = lengths.Sum();
        var workspace = new Workspace<double>(config, lengths[0], batch);
        for (int k = 0; k < rows * config.InputSize; k++)
            workspace.Inputs.AsSpan()[k] = random.NextDouble() * 2 - 1;
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
        return AssertMatchesFiniteDifferences(model, analytic, MeanLoss);
    }

    /// <summary>Every tensor's gradient within 1e-6 relative error of five-point differences; returns the largest error.</summary>
    private static double AssertMatchesFiniteDifferences(SequenceClassifier<double> model, double[] analytic, Func<double> meanLoss)
    {
        // Five-point central differences: truncation error O(h⁴), so a large step keeps rounding error small too.
        const double h = 1e-3;
        double largest = 0;
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
            largest = Math.Max(largest, error);
        }
        return largest;
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
