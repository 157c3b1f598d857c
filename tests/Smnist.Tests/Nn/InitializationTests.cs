using Smnist.Nn;

namespace Smnist.Tests.Nn;

[Trait("Category", "unit")]
public class InitializationTests
{
    private static readonly ModelConfig Config = new(InputSize: 3, HiddenSize: 5, Layers: 2);

    [Fact]
    public void GateBiasesTakeTheirConstantsAndEveryOtherValueKeepsItsDraw()
    {
        var plain = SequenceClassifier<float>.Initialize(Config, seed: 4);
        var longMemory = SequenceClassifier<float>.Initialize(Config, seed: 4, forgetBias: 5, inputBias: -5);

        foreach (ParameterTensor tensor in plain.Layout.Tensors)
        {
            float[] drawn = plain.Parameters.AsSpan(tensor.Offset, tensor.Length).ToArray();
            float[] started = longMemory.Parameters.AsSpan(tensor.Offset, tensor.Length).ToArray();
            if (tensor.Name.EndsWith(".forget.bias", StringComparison.Ordinal))
                Assert.All(started, value => Assert.Equal(5f, value));
            else if (tensor.Name.EndsWith(".input.bias", StringComparison.Ordinal))
                Assert.All(started, value => Assert.Equal(-5f, value));
            else
                Assert.Equal(drawn, started);
        }
    }

    [Fact]
    public void WithoutConstantsEveryBiasIsDrawnWithinNnLinearsBound()
    {
        var model = SequenceClassifier<float>.Initialize(Config, seed: 4);
        foreach (ParameterTensor tensor in model.Layout.Tensors)
        {
            float bound = 1 / MathF.Sqrt(tensor.FanIn);
            Assert.All(model.Parameters.AsSpan(tensor.Offset, tensor.Length).ToArray(), value => Assert.InRange(value, -bound, bound));
        }
    }

    /// <summary>
    /// Chrono: exp(b_f) ~ U(1, T_max − 1); uniform: σ(b_f) ~ U(1/n, 1 − 1/n). Kolmogorov–Smirnov against the
    /// target distribution over 2 × 400 units, below the 1 % critical value 1.63/√N (the draws are seeded, so the
    /// test is deterministic); the input (or refine) biases are exactly −b_f; every other value keeps the plain draw.
    /// </summary>
    [Theory]
    [InlineData(GateInit.Chrono, false)]
    [InlineData(GateInit.Chrono, true)]
    [InlineData(GateInit.Uniform, false)]
    [InlineData(GateInit.Uniform, true)]
    public void ChronoAndUniformDrawTheForgetBiasesFromTheirDistributions(GateInit gateInit, bool refineGate)
    {
        const int steps = 100;
        var config = new ModelConfig(InputSize: 3, HiddenSize: 400, Layers: 2) { RefineGate = refineGate };
        int n = config.HiddenSize;
        var plain = SequenceClassifier<float>.Initialize(config, seed: 7, forgetBias: 1);
        var drawn = SequenceClassifier<float>.Initialize(config, seed: 7, forgetBias: 1, gateInit: gateInit, sequenceSteps: steps);

        // The forget activation the distribution is uniform in, and that uniform's bounds.
        Func<double, double> uniformVariable = gateInit == GateInit.Chrono ? Math.Exp : b => 1 / (1 + Math.Exp(-b));
        (double low, double high) = gateInit == GateInit.Chrono ? (1.0, steps - 1.0) : (1.0 / n, 1 - 1.0 / n);
        var samples = new List<double>();
        foreach (ParameterTensor tensor in drawn.Layout.Tensors)
        {
            float[] values = drawn.Parameters.AsSpan(tensor.Offset, tensor.Length).ToArray();
            if (tensor.Name.EndsWith(".forget.bias", StringComparison.Ordinal))
            {
                samples.AddRange(values.Select(b => uniformVariable(b)));
                float[] second = drawn.Parameters.AsSpan(tensor.Offset + n, n).ToArray();
                Assert.Equal(values.Select(b => -b), second);
            }
            else if (!tensor.Name.EndsWith($".{drawn.Layout.Gates[ParameterLayout.Input]}.bias", StringComparison.Ordinal))
            {
                Assert.Equal(plain.Parameters.AsSpan(tensor.Offset, tensor.Length).ToArray(), values);
            }
        }
        Assert.Equal(2 * n, samples.Count);
        samples.Sort();
        double statistic = 0;
        for (int k = 0; k < samples.Count; k++)
        {
            double cdf = Math.Clamp((samples[k] - low) / (high - low), 0, 1);
            statistic = Math.Max(statistic, Math.Max(Math.Abs((k + 1.0) / samples.Count - cdf), Math.Abs(cdf - (double)k / samples.Count)));
        }
        Assert.True(statistic < 1.63 / Math.Sqrt(samples.Count), $"Kolmogorov–Smirnov statistic {statistic:F4}");
        Assert.InRange(samples[0], low - 1e-5, high);
        Assert.InRange(samples[^1], low, high + 1e-5);
    }

    [Theory]
    [InlineData(GateInit.Chrono)]
    [InlineData(GateInit.Uniform)]
    public void GateBiasDrawsAreTheSameForOneSeedAndDifferForAnother(GateInit gateInit)
    {
        float[] first = SequenceClassifier<float>.Initialize(Config, seed: 4, gateInit: gateInit, sequenceSteps: 28).Parameters;
        float[] again = SequenceClassifier<float>.Initialize(Config, seed: 4, gateInit: gateInit, sequenceSteps: 28).Parameters;
        float[] other = SequenceClassifier<float>.Initialize(Config, seed: 5, gateInit: gateInit, sequenceSteps: 28).Parameters;
        Assert.Equal(first, again);
        int forget = new ParameterLayout(Config).GateBiasOffset(0);
        Assert.NotEqual(first.AsSpan(forget, 5).ToArray(), other.AsSpan(forget, 5).ToArray());
    }

    [Fact]
    public void ChronoRefusesSequencesTooShortForItsRange()
    {
        var error = Assert.Throws<SmnistException>(() => SequenceClassifier<float>.Initialize(Config, seed: 1, gateInit: GateInit.Chrono, sequenceSteps: 1));
        Assert.Equal("chrono initialisation draws from U(1, T_max - 1); it needs sequences of at least 2 steps, not 1", error.Message);
    }

    [Fact]
    public void TheInputBiasConstantSetsTheRefineGateOfAUrLstm()
    {
        var model = SequenceClassifier<float>.Initialize(Config with { RefineGate = true }, seed: 4, forgetBias: 2, inputBias: -3);
        ParameterTensor refine = model.Layout.Tensors.Single(t => t.Name == "lstm.1.refine.bias");
        Assert.All(model.Parameters.AsSpan(refine.Offset, refine.Length).ToArray(), value => Assert.Equal(-3f, value));
    }
}
