using System.Numerics.Tensors;
using Smnist.Data;
using Smnist.Nn;
using Smnist.Optim;
using Smnist.Training;

namespace Smnist.Tests.Training;

/// <summary>Batches of sequences of different lengths, through the loader and the runner, against each sequence run alone.</summary>
[Trait("Category", "unit")]
public class RaggedSequenceTests
{
    [Fact]
    public void TheLoaderSortsEachBatchByDescendingLengthKeepingTiesInOrder()
    {
        var source = new RaggedSource(50, maxSteps: 6, features: 2, classes: 3, labelsPerStep: false, seed: 1);
        using var loader = new BatchLoader(source, 16, shuffle: true, seed: 4);
        var order = new int[source.Count];
        loader.FillOrder(0, order);
        int first = 0;
        foreach (Batch batch in loader.Epoch(0))
        {
            int[] indices = batch.Indices.AsSpan(0, batch.Size).ToArray();
            int[] shuffled = order.AsSpan(first, batch.Size).ToArray();
            first += batch.Size;
            Assert.Equal(shuffled.OrderByDescending(source.LengthOf).ToArray(), indices); // LINQ's sort is stable
            Assert.Equal(indices.Select(source.LengthOf).ToArray(), batch.LengthSpan.ToArray());
            for (int b = 0; b < batch.Size; b++)
                Assert.Equal(source.Label(indices[b]), batch.Labels[b]);
        }
    }

    [Fact]
    public void ALengthOutsideTheSourcesStepsIsRefused()
    {
        using var loader = new BatchLoader(new BadLength(), 4, shuffle: false, seed: 1);
        var error = Assert.Throws<SmnistException>(() => loader.Epoch(0).First());
        Assert.Equal("example 0 has length 9; lengths run from 1 to the source's 3 steps", error.Message);
    }

    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 20)]
    [InlineData(2, 70)]  // 35 rows a worker: passes of 32 and 3
    [InlineData(3, 5)]
    public void ARaggedBatchGivesEachSequencesOwnLossAndGradient(int threads, int batchSize)
    {
        var source = new RaggedSource(batchSize, maxSteps: 9, features: 3, classes: 4, labelsPerStep: false, seed: 2, padding: 1e30f);
        using var loader = new BatchLoader(source, batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(3, 6, Layers: 2, Classes: 4), seed: 3);

        // Each sequence alone, at its own length: the mean loss and the gradient of the mean.
        double expectedLoss = 0;
        var expectedGradient = new float[model.Layout.Count];
        var part = new float[model.Layout.Count];
        for (int example = 0; example < batchSize; example++)
        {
            float[] sequence = source.Sequence(example);
            var alone = new Workspace<float>(model.Config, sequence.Length / 3, maxBatch: 1);
            sequence.CopyTo(alone.Inputs.AsSpan());
            model.Forward(alone, batch: 1);
            int[] label = [source.Label(example)];
            expectedLoss += model.Loss(alone, label) / batchSize;
            model.Backward(alone, label, 1f / batchSize, part);
            TensorPrimitives.Add(expectedGradient, part, expectedGradient);
        }

        using var runner = new BatchRunner(model, source.Steps, batchSize, threads);
        Assert.Equal(expectedLoss, runner.TrainStep(batch), 1e-5);
        AssertClose(expectedGradient, runner.Gradient);
        // The same batch with zeros for padding (the contract's) gives the same bits: the 1e30s were never read.
        var zeros = new RaggedSource(batchSize, maxSteps: 9, features: 3, classes: 4, labelsPerStep: false, seed: 2);
        using var zeroLoader = new BatchLoader(zeros, batchSize, shuffle: false, seed: 1);
        float[] gradient = runner.Gradient.ToArray();
        runner.TrainStep(zeroLoader.Epoch(0).First());
        Assert.Equal(gradient, runner.Gradient);
    }

    /// <summary>
    /// A ragged batch goes out in rounds of one row per worker that turn back every other round (0, 1, 1, 0, 0, 1, 1
    /// for two workers): the runner's gradient is, to the bit, the sum in worker order of each share's gradient run
    /// alone. Dealt in the same order every round, the first worker would take the longest row of each.
    /// </summary>
    [Theory]
    [InlineData(2, new[] { 0, 3, 4 }, new[] { 1, 2, 5, 6 })]
    [InlineData(3, new[] { 0, 5, 6 }, new[] { 1, 4 }, new[] { 2, 3 })]
    public void ARaggedBatchIsDealtInRoundsThatTurnBack(int threads, params int[][] shares)
    {
        const int batchSize = 7;
        var source = new RaggedSource(batchSize, maxSteps: 9, features: 3, classes: 4, labelsPerStep: false, seed: 4, minLength: 2);
        using var loader = new BatchLoader(source, batchSize, shuffle: false, seed: 1);
        Batch batch = Copy(loader.Epoch(0).First());
        Assert.NotEqual(batch.Lengths[0], batch.Lengths[batchSize - 1]);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(3, 6, Classes: 4), seed: 3);
        model.Kernels = KernelSet.Reference;

        var expected = new float[model.Layout.Count];
        var part = new float[model.Layout.Count];
        foreach (int[] share in shares)
        {
            var workspace = new Workspace<float>(model.Config, batch.Steps, share.Length);
            int[] lengths = share.Select(row => batch.Lengths[row]).ToArray();
            workspace.Steps.Set(lengths);
            for (int t = 0; t < workspace.Steps.Steps; t++)
            {
                for (int b = 0; b < workspace.Steps.Rows(t); b++)
                    batch.Inputs.AsSpan((t * batchSize + share[b]) * 3, 3).CopyTo(workspace.Inputs.AsSpan((workspace.Steps.Offset(t) + b) * 3));
            }
            int[] labels = share.Select(row => batch.Labels[row]).ToArray();
            model.Forward(workspace, lengths, ReadoutAt.LastStep);
            model.Backward(workspace, labels, 1f / batchSize, part);
            TensorPrimitives.Add(expected, part, expected);
        }

        using var runner = new BatchRunner(model, source.Steps, batchSize, threads);
        runner.TrainStep(batch);
        Assert.Equal(expected, runner.Gradient);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PerStepLabelsGiveTheMeanOverTheLabelledSteps(int threads)
    {
        const int batchSize = 12;
        var source = new RaggedSource(batchSize, maxSteps: 7, features: 2, classes: 3, labelsPerStep: true, seed: 5);
        using var loader = new BatchLoader(source, batchSize, shuffle: false, seed: 1);
        Batch batch = loader.Epoch(0).First();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(2, 5, Classes: 3), seed: 6);

        double summed = 0;
        int labelled = 0;
        var confusion = new int[9];
        for (int example = 0; example < batchSize; example++)
        {
            float[][] steps = Predictor.StepProbabilities(model, source.Sequence(example));
            for (int t = 0; t < steps.Length; t++)
            {
                int label = source.Label(example, t);
                if (label == SequenceLabels.None)
                    continue;
                summed -= Math.Log(steps[t][label]);
                labelled++;
                confusion[label * 3 + TensorPrimitives.IndexOfMax(steps[t])]++;
            }
        }

        using var runner = new BatchRunner(model, source.Steps, batchSize, threads);
        Assert.Equal(summed / labelled, runner.TrainStep(batch), 1e-5);
        var counted = new int[9];
        (double loss, int scored) = runner.Evaluate(batch, counted);
        Assert.Equal(labelled, scored);
        Assert.Equal(summed, loss, 1e-4);
        Assert.Equal(confusion, counted);

        EvaluationResult result = Evaluator.Evaluate(model, source, threads, batchSize: 5);
        Assert.Equal(labelled, result.Samples);
        Assert.Equal(summed / labelled, result.Loss, 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RaggedTrainingIsTheSameBitsRunAfterRunAndAllocatesNothingPerStep(bool labelsPerStep)
    {
        var source = new RaggedSource(64, maxSteps: 30, features: 4, classes: 5, labelsPerStep, seed: 7);
        Assert.Equal(Train(source, threads: 2, checkAllocations: false), Train(source, threads: 2, checkAllocations: false));
        Train(source, threads: 2, checkAllocations: true);
    }

    private static float[] Train(ISequenceSource source, int threads, bool checkAllocations)
    {
        using var loader = new BatchLoader(source, 32, shuffle: true, seed: 3);
        Batch[] batches = loader.Epoch(0).Select(Copy).ToArray();
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(source.Features, 16, Classes: source.Classes), seed: 1);
        using var runner = new BatchRunner(model, source.Steps, 32, threads);
        var adam = new Adam(model.Layout.Count);
        for (int k = 0; k < 4; k++)
            Step(k);
        if (checkAllocations)
        {
            var warmUp = System.Diagnostics.Stopwatch.StartNew();
            for (int k = 0; warmUp.ElapsedMilliseconds < 1500; k++)
                Step(k);
            long before = GC.GetAllocatedBytesForCurrentThread() + runner.BackgroundAllocatedBytes;
            for (int k = 0; k < 20; k++)
                Step(k);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() + runner.BackgroundAllocatedBytes - before);
        }
        return model.Parameters;

        void Step(int k)
        {
            runner.TrainStep(batches[k % batches.Length]);
            adam.Update(model.Parameters, runner.Gradient, 1e-2f);
        }
    }

    private static Batch Copy(Batch batch)
    {
        var copy = new Batch(batch.Steps, batch.Features, batch.Capacity, batch.LabelsPerStep) { Size = batch.Size };
        batch.Inputs.CopyTo(copy.Inputs, 0);
        batch.Labels.CopyTo(copy.Labels, 0);
        batch.Lengths.CopyTo(copy.Lengths, 0);
        return copy;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(MathF.Abs(expected[k] - actual[k]) <= 1e-6f + 1e-4f * MathF.Abs(expected[k]),
                $"gradient {k}: {expected[k]} vs {actual[k]}");
        }
    }

    private sealed class BadLength : ISequenceSource
    {
        public int Count => 2;

        public int Steps => 3;

        public int Features => 1;

        public int Classes => 2;

        public int LengthOf(int example) => 9;

        public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels) => labels.Clear();
    }
}
