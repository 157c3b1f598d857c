using Smnist.Data;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

public class BatchRunnerTests
{
    [Theory]
    [InlineData(1, 80)]   // chunks of 32, 32 and 16 on one worker
    [InlineData(2, 150)]  // 75 rows a worker: 32, 32, 11
    [InlineData(2, 7)]    // fewer rows than a chunk
    public void SplittingTheBatchBetweenWorkersAndChunksKeepsLossAndGradient(int threads, int batchSize)
    {
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        using var loader = new BatchLoader(SyntheticDigits.Create(batchSize, seed: 5), rows, batchSize, shuffle: false, augment: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, 10), seed: 2);

        var whole = new Workspace<float>(model.Config, rows.Steps, batchSize);
        batch.InputSpan.CopyTo(whole.Inputs);
        model.Forward(whole, batchSize);
        double expectedLoss = model.Loss(whole, batch.LabelSpan, batchSize) / batchSize;
        var expectedGradient = new float[model.Layout.Count];
        model.Backward(whole, batch.LabelSpan, batchSize, 1f / batchSize, expectedGradient);

        using var runner = new BatchRunner(model, rows.Steps, batchSize, threads);
        double loss = runner.TrainStep(batch);
        Assert.Equal(expectedLoss, loss, 1e-6);
        for (int k = 0; k < expectedGradient.Length; k++)
            Assert.True(MathF.Abs(expectedGradient[k] - runner.Gradient[k]) <= 1e-6f + 1e-4f * MathF.Abs(expectedGradient[k]),
                $"gradient {k}: {expectedGradient[k]} vs {runner.Gradient[k]}");

        var confusion = new int[100];
        double summed = runner.Evaluate(batch, confusion);
        Assert.Equal(expectedLoss * batchSize, summed, 1e-4);
        Assert.Equal(batchSize, confusion.Sum());
    }
}
