using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
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

    [Theory]
    [InlineData(3, 10)]
    [InlineData(5, 7)]
    [InlineData(2, 9)]
    public void EachWorkerSummingItsSliceGivesTheSumInWorkerOrder(int threads, int hidden)
    {
        // Consecutive rows per worker, computed here on one thread with the reference kernels and summed in worker
        // order over the whole vector: the runner's slices, summed by different workers, must give the same bits.
        const int rowsPerWorker = 3;
        int batchSize = threads * rowsPerWorker;
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        using var loader = new BatchLoader(new MnistSource(SyntheticDigits.Create(batchSize, seed: 6), rows), batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(rows.Features, hidden), seed: 2);
        model.Kernels = KernelSet.Reference;

        var expected = new float[model.Layout.Count];
        var part = new float[model.Layout.Count];
        var workspace = new Workspace<float>(model.Config, rows.Steps, rowsPerWorker);
        for (int worker = 0; worker < threads; worker++)
        {
            for (int t = 0; t < rows.Steps; t++)
                batch.Inputs.AsSpan((t * batchSize + worker * rowsPerWorker) * rows.Features, rowsPerWorker * rows.Features).CopyTo(workspace.Inputs.AsSpan(t * rowsPerWorker * rows.Features));
            model.Forward(workspace, rowsPerWorker);
            model.Backward(workspace, batch.Labels.AsSpan(worker * rowsPerWorker, rowsPerWorker), 1f / batchSize, part);
            for (int k = 0; k < part.Length; k++)
                expected[k] = worker == 0 ? part[k] : expected[k] + part[k];
        }

        using var runner = new BatchRunner(model, rows.Steps, batchSize, threads);
        runner.TrainStep(batch);
        Assert.NotEqual(0, model.Layout.Count % (16 * threads));
        Assert.Equal(Bits(expected), Bits(runner.Gradient));
        Assert.True(runner.GradientIsFinite);
    }

    [Theory]
    [InlineData(1, 10, null)]
    [InlineData(2, 10, null)]
    [InlineData(2, 10, 1e-3f)] // well below the gradient's norm: every step clips
    [InlineData(3, 7, 1e-3f)]
    [InlineData(5, 9, 1e3f)]   // above it: nothing is scaled
    public void UpdatingInSlicesGivesTheBitsOfClippingAndAdamInOnePass(int threads, int hidden, float? clipNorm)
    {
        const int batchSize = 10;
        const float rate = 1e-2f;
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);
        using var loader = new BatchLoader(new MnistSource(SyntheticDigits.Create(batchSize, seed: 7), rows), batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var config = new ModelConfig(rows.Features, hidden);
        var model = SequenceClassifier<float>.Initialize(config, seed: 2);
        var serialModel = SequenceClassifier<float>.Initialize(config, seed: 2);
        var settings = new AdamSettings(WeightDecay: 0.01f);
        var adam = new Adam(model.Layout.Count, settings);
        var serialAdam = new Adam(model.Layout.Count, settings);
        using var runner = new BatchRunner(model, rows.Steps, batchSize, threads);

        for (int step = 0; step < 3; step++)
        {
            runner.TrainStep(batch);
            float[] gradient = runner.Gradient.ToArray();
            if (clipNorm is float maxNorm)
            {
                Assert.Equal(maxNorm < 1f, GradientClipping.Scale(gradient, maxNorm) < 1f);
                GradientClipping.ClipGlobalNorm(gradient, maxNorm);
            }
            serialAdam.Update(serialModel.Parameters, gradient, rate);
            runner.Update(adam, rate, clipNorm);

            Assert.Equal(Bits(gradient), Bits(runner.Gradient));
            Assert.Equal(Bits(serialModel.Parameters), Bits(model.Parameters));
            Assert.Equal(Bits(serialAdam.FirstMoment), Bits(adam.FirstMoment));
            Assert.Equal(Bits(serialAdam.SecondMoment), Bits(adam.SecondMoment));
            Assert.Equal(serialAdam.Step, adam.Step);
        }
        Assert.Throws<ArgumentException>(() => runner.Update(new Adam(model.Layout.Count + 1), rate, clipNorm));
    }

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);
}
