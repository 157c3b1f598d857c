using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class AllocationTests
{
    [Theory]
    [InlineData(1, SequenceView.Rows, false)]
    [InlineData(2, SequenceView.Rows, false)]
    [InlineData(2, SequenceView.Pixels, false)]
    [InlineData(1, SequenceView.Rows, true)]
    [InlineData(2, SequenceView.Pixels, true)]
    public void ATrainingStepAllocatesNothing(int threads, SequenceView view, bool refineGate)
    {
        SequenceLayout sequence = SequenceLayout.Create(view);
        using var loader = new BatchLoader(new MnistSource(SyntheticDigits.Create(64, seed: 3), sequence), 32, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, 32) { RefineGate = refineGate }, seed: 1);
        using var runner = new BatchRunner(model, sequence.Steps, 32, threads);
        var adam = new Adam(model.Layout.Count);
        // Past tiered compilation's call counting and re-JIT, which allocate on their own.
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 1500)
            Step();

        // Counted on each thread of the step: the process-wide counter would also see the test host's threads.
        long before = GC.GetAllocatedBytesForCurrentThread() + runner.BackgroundAllocatedBytes;
        for (int k = 0; k < 50; k++)
            Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() + runner.BackgroundAllocatedBytes - before);

        void Step()
        {
            runner.TrainStep(batch);
            runner.Update(adam, 1e-3f, clipNorm: 1f);
        }
    }
}
