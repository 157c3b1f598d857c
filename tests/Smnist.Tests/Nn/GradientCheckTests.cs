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
            return model.Loss(workspace, labels, batch) / batch;
        }

        MeanLoss();
        var analytic = new double[model.Parameters.Length];
        model.Backward(workspace, labels, batch, 1.0 / batch, analytic);

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
                    return MeanLoss();
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
