using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Tests.Cli;

/// <summary>
/// Finite weights can still overflow: logits past 88 overflow a softmax that does not subtract the largest first,
/// and weights near float's range overflow the logits themselves. Probabilities and losses are computed stably,
/// and a model whose weights could overflow its logits is refused when it is loaded.
/// </summary>
[Trait("Category", "command")]
public sealed class LargeWeightsTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("predict", "--index", "0")]
    [InlineData("predict", "--json", "--index", "0")]
    [InlineData("explain", "--json", "--index", "0")]
    [InlineData("eval", "--json")]
    [InlineData("eval")]
    public void AModelWithWeightsNearFloatsRangeIsRefusedAtLoad(params string[] command)
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 8), seed: 1);
        model.Parameters.AsSpan().Fill(1e38f);
        string path = Save(model, "huge.safetensors");

        var outcome = CliHarness.FailsWith(1, $"{path}: weights too large for finite outputs: row 0 of 'lstm.0.forget.weight' with its bias sums to 3.7E+39 in magnitude, above the 8.51E+37 that keeps every logit finite",
            [.. command, "--model", path, "--data-dir", CliHarness.DataDir]);
        Assert.Empty(outcome.Out);
    }

    [Fact]
    public void OneRowOverTheBoundIsNamed()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 8, Classes: 3), seed: 1);
        model.Parameters[model.Layout.ReadoutWeightOffset + 2 * 8 + 5] = (float)(ModelCheckpoint.MaxRowMagnitude * 1.01);
        string path = Save(model, "one-row.safetensors");

        var refused = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.StartsWith($"{path}: weights too large for finite outputs: row 2 of 'readout.weight' with its bias sums to 8.59E+37 in magnitude", refused.Message);
    }

    [Fact]
    public void LogitsInTheThousandsGiveFiniteProbabilitiesEverywhere()
    {
        // Logits of tens of thousands: e^logit is infinite in float, so an unshifted softmax gives NaN.
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 8), seed: 1);
        foreach (ref float p in model.Parameters.AsSpan(model.Layout.ReadoutWeightOffset))
            p *= 1e5f;
        string path = Save(model, "confident.safetensors");

        JsonNode predicted = JsonNode.Parse(CliHarness.Succeeds("predict", "--json", "--index", "0", "--model", path, "--data-dir", CliHarness.DataDir).Out)!;
        AssertProbabilities(predicted["predictions"]![0]!["probabilities"]!.AsArray());

        JsonNode explained = JsonNode.Parse(CliHarness.Succeeds("explain", "--json", "--index", "0", "--model", path, "--data-dir", CliHarness.DataDir, "--out", _directory.Path).Out)!;
        JsonArray steps = explained["traces"]![0]!["steps"]!.AsArray();
        Assert.Equal(28, steps.Count);
        foreach (JsonNode? step in steps)
            AssertProbabilities(step!["probabilities"]!.AsArray());

        JsonNode evaluated = JsonNode.Parse(CliHarness.Succeeds("eval", "--json", "--limit-test", "64", "--model", path, "--data-dir", CliHarness.DataDir).Out)!;
        Assert.True(double.IsFinite((double)evaluated["loss"]!), evaluated.ToJsonString());
        Assert.True((double)evaluated["loss"]! > 100, "the loss of so confident a model on wrong answers is large; the test needs logits that large");
    }

    [Fact]
    public void WeightsJustUnderTheBoundKeepEveryOutputFinite()
    {
        // Every row of every gate and of the readout sums to 99 % of the bound with alternating signs: the worst case
        // the bound allows, as every gate saturates and v_t reaches ±1 where the readout's weights are largest.
        var config = new ModelConfig(28, 6, Layers: 2);
        var model = new SequenceClassifier<float>(config);
        FillRows(model.Parameters.AsSpan(model.Layout.GateWeightOffset(0), model.Layout.GateBiasOffset(0) - model.Layout.GateWeightOffset(0)),
            model.Parameters.AsSpan(model.Layout.GateBiasOffset(0), 4 * 6), 6 + 28);
        FillRows(model.Parameters.AsSpan(model.Layout.GateWeightOffset(1), model.Layout.GateBiasOffset(1) - model.Layout.GateWeightOffset(1)),
            model.Parameters.AsSpan(model.Layout.GateBiasOffset(1), 4 * 6), 6 + 6);
        FillRows(model.Parameters.AsSpan(model.Layout.ReadoutWeightOffset, 10 * 6), model.Parameters.AsSpan(model.Layout.ReadoutBiasOffset, 10), 6);
        LoadedModel loaded = ModelCheckpoint.Load(Save(model, "at-the-bound.safetensors"));

        (byte[] images, byte[] labels) = CliHarness.TestImages(32);
        for (int k = 0; k < 8; k++)
        {
            float[] probabilities = Predictor.Probabilities(loaded.Model, loaded.Sequence, images.AsSpan(k * ImageSet.Pixels, ImageSet.Pixels));
            Assert.All(probabilities, p => Assert.True(float.IsFinite(p) && p >= 0 && p <= 1, $"probability {p}"));
            Assert.Equal(1, probabilities.Sum(), 1e-5);
        }
        EvaluationResult result = Evaluator.Evaluate(loaded.Model, loaded.Sequence, new ImageSet(images, labels), threads: 1);
        Assert.True(double.IsFinite(result.Loss), $"loss {result.Loss}");
        Assert.True(result.Loss > 1e37, $"loss {result.Loss}: the logits should be near the bound for the test to mean something");
    }

    [Fact]
    public void SoftmaxSubtractsTheLargestLogitFirst()
    {
        float[] probabilities = new float[3];
        Softmax.Apply([1000f, 0f, -1000f], probabilities);
        Assert.Equal([1f, 0f, 0f], probabilities);
        Softmax.Apply([3e38f, 3e38f, -3e38f], probabilities);
        Assert.Equal([0.5f, 0.5f, 0f], probabilities);
        Assert.Equal(1e30f + MathF.Log(2), Softmax.LogSumExp<float>([1e30f, 1e30f]));
        Assert.Equal(1000 + Math.Log(1 + Math.Exp(-1)), Softmax.LogSumExp<double>([1000, 999]), 1e-12);
    }

    private string Save(SequenceClassifier<float> model, string name)
    {
        string path = _directory[name];
        ModelCheckpoint.Save(path, model, SequenceLayout.Create(model.Config.InputSize == 1 ? SequenceView.Pixels : SequenceView.Rows));
        return path;
    }

    /// <summary>Each (columns)-wide row and its bias: magnitudes summing to 99 % of the bound, signs alternating.</summary>
    private static void FillRows(Span<float> weights, Span<float> biases, int columns)
    {
        float magnitude = (float)(0.99 * ModelCheckpoint.MaxRowMagnitude / (columns + 1));
        for (int row = 0; row < biases.Length; row++)
        {
            for (int column = 0; column < columns; column++)
                weights[row * columns + column] = (row + column) % 2 == 0 ? magnitude : -magnitude;
            biases[row] = row % 2 == 0 ? magnitude : -magnitude;
        }
    }

    private static void AssertProbabilities(JsonArray probabilities)
    {
        Assert.Equal(10, probabilities.Count);
        Assert.All(probabilities, p => Assert.NotNull(p));
        Assert.Equal(1, probabilities.Sum(p => (double)p!), 1e-5);
    }
}
