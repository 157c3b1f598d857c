using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Tests.Cli;

namespace Smnist.Tests.IO;

/// <summary>Every export runs in ONNX Runtime and gives smnist's own logits for the same test images.</summary>
[Trait("Category", "unit")]
public sealed class OnnxExportTests
{
    public static TheoryData<SequenceView, int, int> Cases()
    {
        var cases = new TheoryData<SequenceView, int, int>();
        foreach (SequenceView view in Enum.GetValues<SequenceView>().Where(v => v != SequenceView.Custom)) // the image views
        {
            foreach (int layers in new[] { 1, 2 })
            {
                foreach (int batch in new[] { 1, 17 })
                    cases.Add(view, layers, batch);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeGivesOurLogits(SequenceView view, int layers, int batch)
    {
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 7);
        var config = new ModelConfig(sequence.Features, HiddenSize: 12, layers);
        var model = SequenceClassifier<float>.Initialize(config, seed: 3);
        // Weights three times nn.Linear's range, so that every gate moves the logits and a gate mixed up shows.
        foreach (ref float p in model.Parameters.AsSpan())
            p *= 3;
        (byte[] images, _) = CliHarness.TestImages(batch);

        float[] ours = SmnistLogits(model, sequence, images, batch);
        float[] onnx = OnnxLogits(model, sequence, images, batch);

        Assert.Equal(ours.Length, onnx.Length);
        float largest = ours.Zip(onnx, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(largest <= 1e-4f, $"largest difference {largest}");
        Assert.True(ours.Max() - ours.Min() > 0.5f, "the logits should spread enough for the comparison to mean something");
    }

    [Fact]
    public void DeclaresOpset17AndTheContractNames()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 4, 2), seed: 1);
        Onnx.ModelProto onnx = OnnxExport.Build(model, SequenceLayout.Create(SequenceView.Rows));

        Assert.Equal(17, Assert.Single(onnx.OpsetImport).Version);
        Assert.Equal("input", Assert.Single(onnx.Graph.Input).Name);
        Assert.Equal("logits", Assert.Single(onnx.Graph.Output).Name);
        Assert.Equal(2, onnx.Graph.Node.Count(node => node.OpType == "LSTM"));
        Assert.Equal("Gemm", onnx.Graph.Node.Last().OpType);
        Assert.DoesNotContain(onnx.Graph.Node, node => node.OpType == "Gather");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void EveryWeightAndEveryResultIsUsed(int layers)
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(1, 4, layers), seed: 1);
        Onnx.GraphProto graph = OnnxExport.Build(model, SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 1)).Graph;

        var consumed = graph.Node.SelectMany(node => node.Input).Append("logits").ToHashSet();
        Assert.All(graph.Initializer, tensor => Assert.Contains(tensor.Name, consumed));
        Assert.All(graph.Node.SelectMany(node => node.Output).Where(name => name != ""), name => Assert.Contains(name, consumed));
    }

    [Fact]
    public void ACustomSequenceModelExportsWithItsOwnShape()
    {
        const int steps = 9, features = 3, batch = 5;
        SequenceLayout sequence = SequenceLayout.Custom(steps, features);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(features, HiddenSize: 12, Layers: 2, Classes: 4), seed: 3);
        foreach (ref float p in model.Parameters.AsSpan())
            p *= 3;
        var random = new Random(5);
        float[] sequences = Enumerable.Range(0, batch * steps * features).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray(); // (B, T, d)

        var workspace = new Workspace<float>(model.Config, steps, maxBatch: batch);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < steps; t++)
                sequences.AsSpan((b * steps + t) * features, features).CopyTo(workspace.Inputs.AsSpan((t * batch + b) * features)); // (T, B, d)
        }
        model.Forward(workspace, batch);
        float[] ours = workspace.Logits.AsSpan(0, batch * 4).ToArray();

        string path = Path.Combine(Directory.CreateTempSubdirectory("smnist-onnx-").FullName, "model.onnx");
        try
        {
            OnnxExport.Save(path, model, sequence);
            using var session = new InferenceSession(path);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(sequences, [batch, steps, features]))]);
            float[] onnx = results.Single(r => r.Name == "logits").AsEnumerable<float>().ToArray();
            float largest = ours.Zip(onnx, (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(largest <= 1e-4f, $"largest difference {largest}");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static float[] SmnistLogits(SequenceClassifier<float> model, SequenceLayout sequence, byte[] images, int batch)
    {
        var workspace = new Workspace<float>(model.Config, sequence.Steps, maxBatch: batch);
        int d = sequence.Features;
        for (int t = 0; t < sequence.Steps; t++)          // inputs (T, B, d)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int f = 0; f < d; f++)
                    workspace.Inputs[(t * batch + b) * d + f] = images[b * ImageSet.Pixels + sequence.PixelAt(t * d + f)] / 255f;
            }
        }
        model.Forward(workspace, batch);
        return workspace.Logits.AsSpan(0, batch * model.Config.Classes).ToArray();
    }

    /// <summary>The export run on pixels in their natural order: [batch, T, d] is each image's 784 pixels as they lie.</summary>
    private static float[] OnnxLogits(SequenceClassifier<float> model, SequenceLayout sequence, byte[] images, int batch)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("smnist-onnx-").FullName, "model.onnx");
        try
        {
            OnnxExport.Save(path, model, sequence);
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(images.Select(p => p / 255f).ToArray(), [batch, sequence.Steps, sequence.Features]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
            var logits = (DenseTensor<float>)results.Single(r => r.Name == "logits").AsTensor<float>();
            Assert.Equal([batch, model.Config.Classes], logits.Dimensions.ToArray());
            return logits.Buffer.ToArray();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
