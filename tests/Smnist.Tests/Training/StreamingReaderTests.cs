using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class StreamingReaderTests
{
    private static readonly SequenceClassifier<float> Model = SequenceClassifier<float>.Initialize(new ModelConfig(3, 12, Layers: 2, Classes: 4), seed: 8);

    private static float[] Sequence(int steps, ulong seed)
    {
        var random = DeterministicRandom.For(seed, RandomStreams.Synthetic, 0);
        return Enumerable.Range(0, steps * 3).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void StepProbabilitiesAreEachPrefixsAnswerFromOneForwardPass()
    {
        float[] sequence = Sequence(20, seed: 1);
        float[][] steps = Predictor.StepProbabilities(Model, sequence);
        Assert.Equal(20, steps.Length);
        for (int t = 0; t < steps.Length; t++)
        {
            float[] prefix = Predictor.Probabilities(Model, sequence.AsSpan(0, (t + 1) * 3));
            Assert.Equal(prefix, steps[t]); // the same products and the same order: the same bits
        }
    }

    private static readonly SequenceClassifier<float> RefineModel = SequenceClassifier<float>.Initialize(
        new ModelConfig(3, 12, Layers: 2, Classes: 4) { RefineGate = true }, seed: 8, gateInit: GateInit.Uniform);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void AStreamReadStepByStepEqualsTheBatchForwardAtEveryStep(bool packedWeights, bool refineGate)
    {
        SequenceClassifier<float> model = refineGate ? RefineModel : Model;
        PackedGateWeights? packed = packedWeights ? new PackedGateWeights(model.Config) : null;
        packed?.Pack(model);
        var reader = new StreamingReader(model, packed);
        for (int stream = 0; stream < 2; stream++)
        {
            float[] sequence = Sequence(30 + stream, seed: (ulong)(2 + stream));
            float[][] expected = Predictor.StepProbabilities(model, sequence);
            reader.Reset();
            for (int t = 0; t < expected.Length; t++)
                Assert.Equal(expected[t], reader.Step(sequence.AsSpan(t * 3, 3)).ToArray());
            Assert.Equal(expected.Length, reader.StepsRead);
        }
    }

    [Fact]
    public void ManyReadersShareOneModelOnManyThreads()
    {
        var packed = new PackedGateWeights(Model.Config);
        packed.Pack(Model);
        float[][] sequences = Enumerable.Range(0, 8).Select(k => Sequence(40, seed: (ulong)(10 + k))).ToArray();
        float[][][] expected = sequences.Select(s => Predictor.StepProbabilities(Model, s)).ToArray();
        Parallel.For(0, sequences.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var reader = new StreamingReader(Model, packed);
            for (int round = 0; round < 3; round++)
            {
                reader.Reset();
                for (int t = 0; t < 40; t++)
                    Assert.Equal(expected[k][t], reader.Step(sequences[k].AsSpan(t * 3, 3)).ToArray());
            }
        });
    }

    [Fact]
    public void AReaderGivenNoPackedWeightsTakesTheModelsWeightsAtTheStartOfEachStream()
    {
        var model = new SequenceClassifier<float>(Model.Config, (float[])Model.Parameters.Clone());
        float[] sequence = Sequence(6, seed: 2);
        var reader = new StreamingReader(model);
        var unchanged = new StreamingReader(Model);
        for (int t = 0; t < 3; t++)
            Assert.Equal(unchanged.Step(sequence.AsSpan(t * 3, 3)).ToArray(), reader.Step(sequence.AsSpan(t * 3, 3)).ToArray());

        model.Parameters.AsSpan(model.Layout.GateWeightOffset(0), 48 * 15).Clear(); // the first layer's gates read only their biases
        for (int t = 3; t < 6; t++)
            Assert.Equal(unchanged.Step(sequence.AsSpan(t * 3, 3)).ToArray(), reader.Step(sequence.AsSpan(t * 3, 3)).ToArray()); // the stream goes on as it began

        reader.Reset();
        unchanged.Reset();
        float[] changed = reader.Step(sequence.AsSpan(0, 3)).ToArray();
        Assert.Equal(Predictor.Probabilities(model, sequence.AsSpan(0, 3)), changed);
        Assert.NotEqual(unchanged.Step(sequence.AsSpan(0, 3)).ToArray(), changed);
    }

    [Fact]
    public void AStepAllocatesNothing()
    {
        var reader = new StreamingReader(Model);
        float[] sequence = Sequence(50, seed: 4);
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 1500)
            Read();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Read();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Read()
        {
            reader.Reset();
            for (int t = 0; t < 50; t++)
                reader.Step(sequence.AsSpan(t * 3, 3));
        }
    }

    [Fact]
    public void AStepOfTheWrongWidthOrNotFiniteIsRefused()
    {
        var reader = new StreamingReader(Model);
        Assert.Equal("a step has 3 values, not 2 (Parameter 'input')", Assert.Throws<ArgumentException>(() => reader.Step([1f, 2f])).Message);
        Assert.Throws<ArgumentException>(() => reader.Step([1f, float.NaN, 0f]));
    }

    [Fact]
    public void LogitsThatOverflowAreRefusedInOneLineAsThePredictorRefusesThem()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(3, 12, Layers: 1, Classes: 4), seed: 8);
        foreach (ref float p in model.Parameters.AsSpan())
            p = 1e38f; // twelve outputs near 0.76 times 1e38, plus the bias, overflow every logit
        float[] step = [1e6f, 1e6f, 1e6f];

        var streamed = Assert.Throws<SmnistException>(() => new StreamingReader(model).Step(step).ToArray());
        var predicted = Assert.Throws<SmnistException>(() => Predictor.Probabilities(model, step));
        Assert.Equal(predicted.Message, streamed.Message);
        Assert.DoesNotContain('\n', streamed.Message);
    }
}
