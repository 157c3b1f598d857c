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
}
