using Smnist.Data;
using Smnist.Tests.Training;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
public sealed class SubsetSourceTests
{
    [Fact]
    public void HeldOutExamplesKeepTheirLengthsAndPerStepLabels()
    {
        var source = new RaggedSource(count: 40, maxSteps: 9, features: 2, classes: 3, labelsPerStep: true, seed: 7);
        var (train, held) = SubsetSource.HoldOut(source, source, count: 10, seed: 1);

        Assert.True(train.LabelsPerStep);
        Assert.True(held.LabelsPerStep);
        var lengths = Enumerable.Range(0, source.Count).Select(source.LengthOf).Order().ToArray();
        var split = Enumerable.Range(0, train.Count).Select(train.LengthOf)
            .Concat(Enumerable.Range(0, held.Count).Select(held.LengthOf)).Order().ToArray();
        Assert.Equal(lengths, split);
        Assert.Contains(split, length => length < source.Steps);
    }
}
