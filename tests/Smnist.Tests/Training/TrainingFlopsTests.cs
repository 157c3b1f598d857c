using System.Diagnostics;
using Smnist.Data;
using Smnist.Kernels;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public sealed class TrainingFlopsTests
{
    [Fact]
    public void APixelSampleAtHidden128Costs310Mflop()
    {
        SequenceLayout pixels = SequenceLayout.Create(SequenceView.Pixels);
        double flops = TrainingFlops.PerSample(new ModelConfig(pixels.Features, 128), pixels.Steps);
        // 784 steps × (gate product 132,096 + state gradient 131,072 + weight gradient 132,096) + readout 3 × 2·128·10.
        Assert.Equal(784.0 * (132_096 + 131_072 + 132_096) + 7_680, flops);
        Assert.InRange(flops / 1e6, 309.5, 310.5);
    }

    [Fact]
    public void ARowSampleCountsItsWiderInput()
    {
        double flops = TrainingFlops.PerSample(new ModelConfig(28, 128), 28);
        Assert.Equal(28.0 * (2 * 156 * 512 + 2 * 512 * 128 + 2 * 156 * 512) + 7_680, flops);
    }

    [Fact]
    public void LayersAboveTheFirstAlsoPayTheInputGradient()
    {
        double one = TrainingFlops.PerSample(new ModelConfig(1, 8), 10);
        double two = TrainingFlops.PerSample(new ModelConfig(1, 8, Layers: 2), 10);
        // The second layer reads 8 features: gate product, state and input gradient, weight gradient, 2·16·32 each.
        Assert.Equal(10.0 * 3 * 2 * 16 * 32, two - one);
    }

    [Fact]
    public void TheFmaProbeMeasuresAPositiveFiniteSpeed()
    {
        double gflops = FmaPeak.MeasureGflopsPerCore(threads: 2, seconds: 0.01);
        Assert.True(double.IsFinite(gflops) && gflops > 0, $"probe measured {gflops}");
        Assert.Equal(2.0 * FmaPeak.Chains * FmaPeak.Lanes, FmaPeak.FlopsPerIteration);
    }

    [Fact]
    public void TheFmaProbeReadsTheMedianBatchSoBatchesCutOffTheCoreDoNotLowerIt()
    {
        // Seven batches of one millisecond and three that the scheduler stretched: the median is a millisecond.
        long millisecond = Stopwatch.Frequency / 1000;
        long[] ticks = [millisecond, 40 * millisecond, millisecond, millisecond, 9 * millisecond, millisecond, millisecond, 100 * millisecond, millisecond, millisecond];
        Assert.Equal(2.0, FmaPeak.MedianBatchGflops(ticks, flopsPerBatch: 2e6), precision: 9);
    }
}
