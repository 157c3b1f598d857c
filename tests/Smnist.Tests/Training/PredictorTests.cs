using Smnist.Data;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class PredictorTests
{
    private static readonly ImageSet Images = SyntheticDigits.Create(12, seed: 5);

    [Theory]
    [InlineData(SequenceView.Rows, 1)]
    [InlineData(SequenceView.Rows, 2)]
    [InlineData(SequenceView.Permuted, 1)]
    public void ProbabilitiesAreTheSoftmaxOfADoublePrecisionForward(SequenceView view, int layers)
    {
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 3);
        var config = new ModelConfig(sequence.Features, HiddenSize: 6, layers);
        var model = SequenceClassifier<float>.Initialize(config, seed: 9, forgetBias: 1);
        var reference = new SequenceClassifier<double>(config, Array.ConvertAll(model.Parameters, p => (double)p));
        var workspace = new Workspace<double>(config, sequence.Steps, maxBatch: 1);

        for (int index = 0; index < Images.Count; index++)
        {
            ReadOnlySpan<byte> image = Images.Image(index);
            for (int element = 0; element < ImageSet.Pixels; element++)
                workspace.Inputs.AsSpan()[element] = image[sequence.PixelAt(element)] / 255.0;
            reference.Forward(workspace, batch: 1);
            double[] expected = Softmax(workspace.Logits.AsSpan(0, config.Classes));

            float[] probabilities = Predictor.Probabilities(model, sequence, image);

            Assert.Equal(config.Classes, probabilities.Length);
            for (int k = 0; k < config.Classes; k++)
                Assert.Equal(expected[k], probabilities[k], 1e-5);
        }
    }

    [Fact]
    public void AgreesWithTheBatchedEvaluatorOnEveryImage()
    {
        SequenceLayout sequence = SequenceLayout.Create(SequenceView.Rows);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, HiddenSize: 16), seed: 2);

        for (int index = 0; index < Images.Count; index++)
        {
            var single = new ImageSet(Images.Image(index).ToArray(), [Images.Labels[index]]);
            EvaluationResult evaluation = Evaluator.Evaluate(model, sequence, single, threads: 2);
            float[] probabilities = Predictor.Probabilities(model, sequence, Images.Image(index));

            int predicted = Enumerable.Range(0, ImageSet.Classes).Single(k => evaluation.Confusion[Images.Labels[index], k] == 1);
            Assert.Equal(predicted, Array.IndexOf(probabilities, probabilities.Max()));
            Assert.Equal(evaluation.Loss, -Math.Log(probabilities[Images.Labels[index]]), 1e-5);
        }
    }

    [Fact]
    public void ReusingTheThreadsBuffersGivesEachCallTheBitsOfAFreshPass()
    {
        var config = new ModelConfig(InputSize: 3, HiddenSize: 16);
        var first = SequenceClassifier<float>.Initialize(config, seed: 1);
        var second = SequenceClassifier<float>.Initialize(config, seed: 2);
        var random = new Random(4);
        foreach ((SequenceClassifier<float> model, int steps) in new[] { (first, 30), (first, 5), (second, 17), (first, 30) })
        {
            float[] sequence = Enumerable.Range(0, steps * 3).Select(_ => random.NextSingle()).ToArray();
            Assert.Equal(FreshPass(model, sequence), Predictor.Probabilities(model, sequence));
        }

        // The buffers hold no packed copy of the weights from one call to the next: changed weights take effect.
        float[] last = Enumerable.Range(0, 30 * 3).Select(_ => random.NextSingle()).ToArray();
        float[] before = Predictor.Probabilities(first, last);
        first.Parameters.AsSpan(first.Layout.GateWeightOffset(0), 64 * 19).Clear();
        float[] after = Predictor.Probabilities(first, last);
        Assert.NotEqual(before, after);
        Assert.Equal(FreshPass(first, last), after);
    }

    /// <summary>Softmax of the logits of a forward pass on a workspace of its own, with the weights packed once, as training runs it.</summary>
    private static float[] FreshPass(SequenceClassifier<float> model, float[] sequence)
    {
        int steps = sequence.Length / model.Config.InputSize;
        var workspace = new Workspace<float>(model.Config, steps, maxBatch: 1);
        sequence.CopyTo(workspace.Inputs.AsSpan());
        var packed = new PackedGateWeights(model.Config);
        packed.Pack(model);
        model.Forward(workspace, [steps], ReadoutAt.LastStep, packed);
        var probabilities = new float[model.Config.Classes];
        Smnist.Nn.Softmax.Apply(workspace.Logits.AsSpan(0, model.Config.Classes), probabilities);
        return probabilities;
    }

    [Fact]
    public void RefusesAnImageOfTheWrongSize()
    {
        SequenceLayout sequence = SequenceLayout.Create(SequenceView.Rows);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, HiddenSize: 4), seed: 1);
        Assert.Throws<ArgumentException>(() => Predictor.Probabilities(model, sequence, new byte[783]));
    }

    private static double[] Softmax(ReadOnlySpan<double> logits)
    {
        double max = double.NegativeInfinity;
        foreach (double logit in logits)
            max = Math.Max(max, logit);
        var result = new double[logits.Length];
        double sum = 0;
        for (int k = 0; k < logits.Length; k++)
            sum += result[k] = Math.Exp(logits[k] - max);
        for (int k = 0; k < logits.Length; k++)
            result[k] /= sum;
        return result;
    }
}
