using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Tests.Cli;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class ReadingTraceTests
{
    [Theory]
    [InlineData(SequenceView.Rows, 1)]
    [InlineData(SequenceView.Rows, 2)]
    [InlineData(SequenceView.Permuted, 1)]
    public void TheLastStepsProbabilitiesArePredictors(SequenceView view, int layers)
    {
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 4);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, 16, layers), seed: 2, forgetBias: 1);
        var packed = new PackedGateWeights(model.Config);
        packed.Pack(model);
        var trace = new ReadingTrace(model, sequence, packed);
        (byte[] images, _) = CliHarness.TestImages(5);
        for (int k = 0; k < 5; k++)
        {
            ReadOnlySpan<byte> image = images.AsSpan(k * ImageSet.Pixels, ImageSet.Pixels);
            float[] expected = Predictor.Probabilities(model, sequence, image);
            trace.Read(image);
            Assert.Equal(sequence.Steps, trace.Steps);
            for (int c = 0; c < 10; c++)
                Assert.Equal(expected[c], trace.Probabilities[c], 1e-6f);
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(expected), trace.Digit);
            for (int pixel = 0; pixel < ImageSet.Pixels; pixel++)
                Assert.Equal(image[pixel] / 255f, trace.Input[pixel]);
        }
    }

    /// <summary>The LSTM, and the UR-LSTM (refine gate r in the input gate's block, g = r(1 − (1 − f)²) + (1 − r)f² kept, 1 − g written).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GatesCellsAndOutputsEqualAForwardPassByHand(bool refineGate)
    {
        const int n = 3;
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, n, Layers: 2) { RefineGate = refineGate }, seed: 9, gateInit: GateInit.Uniform);
        var trace = new ReadingTrace(model, rows);
        (byte[] images, _) = CliHarness.TestImages(1);
        trace.Read(images);

        // The LSTM equations written out in double, unit by unit, for both layers.
        double[] layerInput = images.Select(p => p / 255.0).ToArray(); // (T, d) for layer 0
        int d = rows.Features;
        for (int layer = 0; layer < 2; layer++)
        {
            ReadOnlySpan<float> p = model.Parameters;
            int columns = n + d, weights = model.Layout.GateWeightOffset(layer), biases = model.Layout.GateBiasOffset(layer);
            var v = new double[n];
            var c = new double[n];
            var nextInput = new double[rows.Steps * n];
            for (int t = 1; t <= rows.Steps; t++)
            {
                var gates = new double[4, n];
                for (int gate = 0; gate < 4; gate++)
                {
                    for (int unit = 0; unit < n; unit++)
                    {
                        int row = gate * n + unit;
                        double sum = p[biases + row];
                        for (int k = 0; k < n; k++)
                            sum += p[weights + row * columns + k] * v[k];
                        for (int k = 0; k < d; k++)
                            sum += p[weights + row * columns + n + k] * layerInput[(t - 1) * d + k];
                        gates[gate, unit] = gate == ParameterLayout.Candidate ? Math.Tanh(sum) : 1 / (1 + Math.Exp(-sum));
                    }
                }
                for (int unit = 0; unit < n; unit++)
                {
                    double f = gates[ParameterLayout.Forget, unit], second = gates[ParameterLayout.Input, unit];
                    double kept = refineGate ? second * (1 - (1 - f) * (1 - f)) + (1 - second) * f * f : f;
                    double written = refineGate ? 1 - kept : second;
                    c[unit] = kept * c[unit] + written * gates[ParameterLayout.Candidate, unit];
                    Assert.Equal(kept, trace.EffectiveForgetGate(layer, t)[unit], 1e-5);
                    Assert.Equal(written, trace.EffectiveInputGate(layer, t)[unit], 1e-5);
                    v[unit] = gates[2, unit] * Math.Tanh(c[unit]);
                    nextInput[(t - 1) * n + unit] = v[unit];
                    for (int gate = 0; gate < 4; gate++)
                        Assert.Equal(gates[gate, unit], trace.Gate(layer, gate, t)[unit], 1e-5);
                    Assert.Equal(c[unit], trace.Cell(layer, t)[unit], 1e-5);
                    Assert.Equal(v[unit], trace.Output(layer, t)[unit], 1e-5);
                }
                if (layer == 1)
                    AssertReadout(model, v, trace.StepProbabilities(t));
            }
            layerInput = nextInput;
            d = n;
        }
    }

    [Fact]
    public void DecidedAtIsTheStepFromWhichTheAnswerNeverChanges()
    {
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, 8), seed: 5);
        var trace = new ReadingTrace(model, rows);
        (byte[] images, _) = CliHarness.TestImages(20);
        for (int k = 0; k < 20; k++)
        {
            trace.Read(images.AsSpan(k * ImageSet.Pixels, ImageSet.Pixels));
            int[] answers = Enumerable.Range(1, trace.Steps).Select(t => TensorPrimitives.IndexOfMax(trace.StepProbabilities(t))).ToArray();
            Assert.Equal(trace.Digit, answers[^1]);
            Assert.All(answers[(trace.DecidedAt - 1)..], answer => Assert.Equal(trace.Digit, answer));
            if (trace.DecidedAt > 1)
                Assert.NotEqual(trace.Digit, answers[trace.DecidedAt - 2]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadingAgainAllocatesNothingAndForgetsThePreviousImage(bool refineGate)
    {
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, 32) { RefineGate = refineGate }, seed: 1);
        var packed = new PackedGateWeights(model.Config);
        packed.Pack(model);
        (byte[] images, _) = CliHarness.TestImages(2);
        var fresh = new ReadingTrace(model, rows, packed);
        fresh.Read(images.AsSpan(ImageSet.Pixels));
        float[] expected = fresh.Probabilities.ToArray();

        var trace = new ReadingTrace(model, rows, packed);
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 1000)
            trace.Read(images.AsSpan(0, ImageSet.Pixels));
        long before = GC.GetAllocatedBytesForCurrentThread();
        trace.Read(images.AsSpan(ImageSet.Pixels));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(expected, trace.Probabilities.ToArray());
    }

    private static void AssertReadout(SequenceClassifier<float> model, double[] v, ReadOnlySpan<float> probabilities)
    {
        int n = v.Length, classes = model.Config.Classes;
        var logits = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            logits[c] = model.Parameters[model.Layout.ReadoutBiasOffset + c];
            for (int k = 0; k < n; k++)
                logits[c] += model.Parameters[model.Layout.ReadoutWeightOffset + c * n + k] * v[k];
        }
        double max = logits.Max(), total = logits.Sum(l => Math.Exp(l - max));
        for (int c = 0; c < classes; c++)
            Assert.Equal(Math.Exp(logits[c] - max) / total, probabilities[c], 1e-5);
    }
}
