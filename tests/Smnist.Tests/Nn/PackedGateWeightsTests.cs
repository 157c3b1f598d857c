using Smnist.Nn;
using Smnist.Tests.Kernels;

namespace Smnist.Tests.Nn;

[Trait("Category", "unit")]
public class PackedGateWeightsTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)] // more shares than some matrices have panels: those shares pack nothing there
    public void PackingEveryShareGivesWhatOnePackGives(int shares)
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(InputSize: 5, HiddenSize: 40, Layers: 2), seed: 3);
        var whole = new PackedGateWeights(model.Config);
        whole.Pack(model);
        var inShares = new PackedGateWeights(model.Config);
        for (int share = shares - 1; share >= 0; share--)
            inShares.Pack(model, share, shares);

        for (int layer = 0; layer < model.Config.Layers; layer++)
        {
            Assert.Equal(PackPanelsTests.Bits(PackPanelsTests.Contents(whole.Forward(layer))), PackPanelsTests.Bits(PackPanelsTests.Contents(inShares.Forward(layer))));
            Assert.Equal(PackPanelsTests.Bits(PackPanelsTests.Contents(whole.Backward(layer))), PackPanelsTests.Bits(PackPanelsTests.Contents(inShares.Backward(layer))));
        }
    }
}
