using Smnist.Data;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class BatchRunnerTests
{
    [Theory]
    [InlineData(1, 80)]   // chunks of 32, 32 and 16 on one worker
    [InlineData(2, 150)]  // 75 rows a worker: 32, 32, 11
    [InlineData(2, 7)]    // fewer rows than a chunk
    public void SplittingTheBatchBetweenWorkersAndChunksKeepsLossAndGradient(int threads, int batchSize)
    {
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        using var loader = new BatchLoader(new MnistSource(SyntheticDigits.Create(batchSize, seed: 5), rows), batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, 10), seed: 2);

        var whole = new Workspace<float>(model.Config, rows.Steps, batchSize);
        batch.InputSpan.CopyTo(whole.Inputs);
        model.Forward(whole, batchSize);
        double expectedLoss = model.Loss(whole, batch.LabelSpan) / batchSize;
        var expectedGradient = new float[model.Layout.Count];
        model.Backward(whole, batch.LabelSpan, 1f / batchSize, expectedGradient);

        using var runner = new BatchRunner(model, rows.Steps, batchSize, threads);
        double loss = runner.TrainStep(batch);
        Assert.Equal(expectedLoss, loss, 1e-6);
        for (int k = 0; k < expectedGradient.Length; k++)
        {
            Assert.True(MathF.Abs(expectedGradient[k] - runner.Gradient[k]) <= 1e-6f + 1e-4f * MathF.Abs(expectedGradient[k]),
                $"gradient {k}: {expectedGradient[k]} vs {runner.Gradient[k]}");
        }

        var confusion = new int[100];
        double summed = runner.Evaluate(batch, confusion).Loss;
        Assert.Equal(expectedLoss * batchSize, summed, 1e-4);
        Assert.Equal(batchSize, confusion.Sum());
    }

    [Fact]
    public void EveryWorkerComputesWithTheModelsKernels()
    {
        // Two workers of 8 rows each: the runner's gradient is worker 0's plus worker 1's, each one chunk. Computed
        // here on one thread with the reference kernels, it must match to the bit, which it cannot if a worker
        // thread used the fast kernels instead.
        const int batchSize = 16, half = batchSize / 2;
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        using var loader = new BatchLoader(new MnistSource(SyntheticDigits.Create(batchSize, seed: 5), rows), batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, 10), seed: 2);
        model.Kernels = KernelSet.Reference;

        var expected = new float[model.Layout.Count];
        var part = new float[model.Layout.Count];
        var workspace = new Workspace<float>(model.Config, rows.Steps, half);
        for (int worker = 0; worker < 2; worker++)
        {
            for (int t = 0; t < rows.Steps; t++)
                batch.Inputs.AsSpan((t * batchSize + worker * half) * rows.Features, half * rows.Features).CopyTo(workspace.Inputs.AsSpan(t * half * rows.Features));
            ReadOnlySpan<int> labels = batch.Labels.AsSpan(worker * half, half);
            model.Forward(workspace, half);
            model.Backward(workspace, labels, 1f / batchSize, part);
            for (int k = 0; k < part.Length; k++)
                expected[k] += part[k];
        }

        using var runner = new BatchRunner(model, rows.Steps, batchSize, threads: 2);
        runner.TrainStep(batch);
        Assert.Equal(expected, runner.Gradient);
    }
}
