using Smnist.Optim;

namespace Smnist.Tests.Optim;

[Trait("Category", "unit")]
public class LearningRateScheduleTests
{
    [Fact]
    public void ConstantKeepsTheBaseRateThroughoutAndBeyond()
    {
        foreach (long step in new long[] { 0, 1, 500, 999, 1000, 5000 })
            Assert.Equal(2e-3f, LearningRateSchedules.At(LearningRateSchedule.Constant, 2e-3f, step, 1000));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(250, 0.85355339059327373)] // (1 + cos(π/4)) / 2
    [InlineData(500, 0.5)]
    [InlineData(750, 0.14644660940672627)]
    [InlineData(1000, 0.0)]
    public void CosineFollowsPyTorchsCosineAnnealingToZero(long step, double fraction)
    {
        float rate = LearningRateSchedules.At(LearningRateSchedule.Cosine, 2e-3f, step, 1000);
        Assert.Equal(2e-3 * fraction, rate, 1e-9);
    }

    [Fact]
    public void CosineDecreasesEveryStepAndStaysAtZeroPastTheHorizon()
    {
        float previous = float.PositiveInfinity;
        for (long step = 0; step <= 1875; step++)
        {
            float rate = LearningRateSchedules.At(LearningRateSchedule.Cosine, 1e-3f, step, 1875);
            Assert.True(rate <= previous, $"step {step}: {rate} after {previous}");
            previous = rate;
        }
        Assert.Equal(0f, LearningRateSchedules.At(LearningRateSchedule.Cosine, 1e-3f, 4000, 1875), 12);
    }

    [Fact]
    public void CosineOverAnEmptyHorizonIsFinite()
    {
        float rate = LearningRateSchedules.At(LearningRateSchedule.Cosine, 1e-3f, 0, 0);
        Assert.True(float.IsFinite(rate));
    }
}
