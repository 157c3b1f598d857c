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
        foreach (SequenceView view in Enum.GetValues<SequenceView>().Where(v => v is not (SequenceView.Custom or SequenceView.Strokes))) // the views that read pixels
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

    /// <summary>A UR-LSTM (refine gate), which the LSTM operator cannot express, exports as a Scan per layer and gives our logits.</summary>
    [Theory]
    [InlineData(SequenceView.Rows, 1)]
    [InlineData(SequenceView.Rows, 2)]
    [InlineData(SequenceView.Pixels, 1)]
    [InlineData(SequenceView.Permuted, 2)]
    public void ARefineModelGivesOurLogits(SequenceView view, int layers)
    {
        const int batch = 17;
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 7);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, HiddenSize: 12, layers) { RefineGate = true }, seed: 3);
        foreach (ref float p in model.Parameters.AsSpan())
            p *= 3;
        (byte[] images, _) = CliHarness.TestImages(batch);

        float[] ours = SmnistLogits(model, sequence, images, batch);
        float[] onnx = OnnxLogits(model, sequence, images, batch);

        AssertClose(ours, onnx, 1e-5f);
        Assert.True(ours.Max() - ours.Min() > 0.5f, "the logits should spread enough for the comparison to mean something");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARefineModelKeepsTheContractAndUsesEveryWeight(bool stateful)
    {
        SequenceLayout permuted = SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 1);
        var plain = SequenceClassifier<float>.Initialize(new ModelConfig(1, 4, Layers: 3), seed: 1);
        var refine = SequenceClassifier<float>.Initialize(new ModelConfig(1, 4, Layers: 3) { RefineGate = true }, seed: 1);

        Onnx.ModelProto expected = OnnxExport.Build(plain, permuted, stateful), actual = OnnxExport.Build(refine, permuted, stateful);

        Assert.Equal(expected.Graph.Input, actual.Graph.Input);
        Assert.Equal(expected.Graph.Output, actual.Graph.Output);
        Assert.Equal(expected.MetadataProps, actual.MetadataProps);
        Assert.DoesNotContain(actual.Graph.Node, node => node.OpType == "LSTM");
        Assert.Equal(3, actual.Graph.Node.Count(node => node.OpType == "Scan"));
        Assert.Equal(!stateful, actual.Graph.Node.Any(node => node.OpType == "Gather" && node.Input[0] == OnnxExport.InputName));
        // The Scan bodies read each layer's recurrent weight from the graph around them.
        var bodies = actual.Graph.Node.SelectMany(node => node.Attribute).Where(a => a.G is not null).Select(a => a.G).ToArray();
        var consumed = actual.Graph.Node.Concat(bodies.SelectMany(body => body.Node)).SelectMany(node => node.Input)
            .Concat(actual.Graph.Output.Select(o => o.Name)).ToHashSet();
        Assert.All(actual.Graph.Initializer, tensor => Assert.Contains(tensor.Name, consumed));
        // A Scan gives its final states whether they are read or not (ONNX Runtime refuses an empty name there): the
        // plain form reads only the last layer's output.
        var results = actual.Graph.Node.SelectMany(node => node.OpType == "Scan" && !stateful ? node.Output.Skip(2) : node.Output);
        Assert.All(results, name => Assert.Contains(name, consumed));
        Assert.All(bodies, body => Assert.All(body.Node.SelectMany(node => node.Output).Except(body.Output.Select(o => o.Name)), name => Assert.Contains(name, consumed)));
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

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void AStreamFedInThreePiecesCarryingTheStateEqualsOnePass(int layers, bool refineGate)
    {
        const int steps = 12, features = 3, batch = 3, n = 10;
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(features, n, layers, Classes: 4) { RefineGate = refineGate }, seed: 5);
        foreach (ref float p in model.Parameters.AsSpan())
            p *= 3;
        var random = new Random(11);
        float[] sequences = Enumerable.Range(0, batch * steps * features).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray(); // (B, T, d)
        using var export = new StatefulExport(model, SequenceLayout.Custom(steps, features));

        var whole = export.Run(sequences, steps, [steps, steps, steps], Zeros(layers * batch * n), Zeros(layers * batch * n));
        float[] h = Zeros(layers * batch * n), c = Zeros(layers * batch * n);
        StatefulExport.Result piece = default!;
        int start = 0;
        foreach (int length in new[] { 5, 4, 3 })
        {
            piece = export.Run(Steps(sequences, batch, steps, features, start, length), length, [length, length, length], h, c);
            (h, c) = (piece.FinalHidden, piece.FinalCell);
            start += length;
        }

        AssertClose(whole.Logits, piece.Logits, 1e-5f);
        AssertClose(whole.FinalHidden, piece.FinalHidden, 1e-5f);
        AssertClose(whole.FinalCell, piece.FinalCell, 1e-5f);
        for (int b = 0; b < batch; b++)
        {
            Alone ours = RunAlone(model, sequences.AsSpan(b * steps * features, steps * features).ToArray(), steps);
            AssertClose(ours.Logits, whole.Logits.AsSpan(b * 4, 4).ToArray(), 1e-5f);
            for (int layer = 0; layer < layers; layer++)
            {
                AssertClose(ours.Hidden[layer], whole.FinalHidden.AsSpan((layer * batch + b) * n, n).ToArray(), 1e-5f);
                AssertClose(ours.Cell[layer], whole.FinalCell.AsSpan((layer * batch + b) * n, n).ToArray(), 1e-5f);
            }
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void ARaggedBatchWithSequenceLensGivesEachExampleItsOwnResult(int layers, bool refineGate)
    {
        SequenceLayout sequence = SequenceLayout.Create(SequenceView.Rows);
        const int n = 12;
        int[] lengths = [28, 1, 13, 20, 7];
        int batch = lengths.Length, steps = sequence.Steps, d = sequence.Features;
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(d, n, layers) { RefineGate = refineGate }, seed: 3);
        foreach (ref float p in model.Parameters.AsSpan())
            p *= 3;
        (byte[] images, _) = CliHarness.TestImages(batch);
        // (B, T, d): each image's first rows, then padding that must never be read: a read would show.
        float[] padded = new float[batch * steps * d];
        for (int b = 0; b < batch; b++)
        {
            for (int k = 0; k < steps * d; k++)
                padded[b * steps * d + k] = k < lengths[b] * d ? images[b * ImageSet.Pixels + k] / 255f : 7f;
        }
        using var export = new StatefulExport(model, sequence);

        var onnx = export.Run(padded, steps, lengths, Zeros(layers * batch * n), Zeros(layers * batch * n));

        for (int b = 0; b < batch; b++)
        {
            // smnist on this example alone, at its own length: the fixed-length path, batch of one.
            Alone ours = RunAlone(model, padded.AsSpan(b * steps * d, lengths[b] * d).ToArray(), lengths[b]);
            AssertClose(ours.Logits, onnx.Logits.AsSpan(b * 10, 10).ToArray(), 1e-5f);
            for (int layer = 0; layer < layers; layer++)
            {
                AssertClose(ours.Hidden[layer], onnx.FinalHidden.AsSpan((layer * batch + b) * n, n).ToArray(), 1e-5f);
                AssertClose(ours.Cell[layer], onnx.FinalCell.AsSpan((layer * batch + b) * n, n).ToArray(), 1e-5f);
            }
        }
        Assert.True(onnx.Logits.Max() - onnx.Logits.Min() > 0.5f, "the logits should spread enough for the comparison to mean something");
    }

    [Fact]
    public void TheStatefulFormDeclaresItsStateAndLengthsAndThePlainFormDoesNot()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(1, 4, 2), seed: 1);
        SequenceLayout permuted = SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 1);

        Onnx.ModelProto stateful = OnnxExport.Build(model, permuted, stateful: true);
        Assert.Equal(["input", "initial_h", "initial_c", "sequence_lens"], stateful.Graph.Input.Select(i => i.Name));
        Assert.Equal(["logits", "Y_h", "Y_c"], stateful.Graph.Output.Select(o => o.Name));
        Assert.Equal("steps", stateful.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimParam);
        Assert.Equal([2, 0, 4], stateful.Graph.Input[1].Type.TensorType.Shape.Dim.Select(dim => dim.DimValue));
        Assert.Equal((int)Onnx.TensorProto.Types.DataType.Int32, stateful.Graph.Input[3].Type.TensorType.ElemType);
        // A piece of a stream cannot be permuted as a whole: the caller feeds the network's order, given in the metadata.
        Assert.DoesNotContain(stateful.Graph.Node, node => node.OpType == "Gather");
        Assert.Equal(string.Join(',', permuted.Permutation!), stateful.MetadataProps.Single(p => p.Key == "permutation").Value);
        var consumed = stateful.Graph.Node.SelectMany(node => node.Input).Concat(stateful.Graph.Output.Select(o => o.Name)).ToHashSet();
        Assert.All(stateful.Graph.Initializer, tensor => Assert.Contains(tensor.Name, consumed));

        Onnx.ModelProto plain = OnnxExport.Build(model, permuted);
        Assert.Equal(["input"], plain.Graph.Input.Select(i => i.Name));
        Assert.Equal(["logits"], plain.Graph.Output.Select(o => o.Name));
        Assert.Equal(784, plain.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Contains(plain.Graph.Node, node => node.OpType == "Gather");
        Assert.DoesNotContain(plain.MetadataProps, p => p.Key == "permutation");
    }

    [Fact]
    public void TheCommandWritesTheStatefulFormWhenAsked()
    {
        using var dir = CliHarness.TempDir();
        ModelCheckpoint.Save(dir["model.safetensors"], SequenceClassifier<float>.Initialize(new ModelConfig(28, 6, 2), seed: 1), SequenceLayout.Create(SequenceView.Rows));

        var outcome = CliHarness.Succeeds("export", "--model", dir["model.safetensors"], "--onnx", dir["stateful.onnx"], "--stateful");

        Assert.Contains("initial_h and initial_c [2, batch, 6], sequence_lens [batch] (int32); outputs logits [batch, 10], Y_h and Y_c [2, batch, 6]", outcome.Out);
        using var session = new InferenceSession(dir["stateful.onnx"]);
        Assert.Equal(["input", "initial_h", "initial_c", "sequence_lens"], session.InputNames);
        Assert.Equal(["logits", "Y_h", "Y_c"], session.OutputNames);
        Assert.Equal([-1, -1, 28], session.InputMetadata["input"].Dimensions);
    }

    private static float[] Zeros(int count) => new float[count];

    /// <summary>Steps [start, start + length) of every example of (B, T, d) <paramref name="sequences"/>, as (B, length, d).</summary>
    private static float[] Steps(float[] sequences, int batch, int steps, int features, int start, int length)
    {
        var piece = new float[batch * length * features];
        for (int b = 0; b < batch; b++)
            sequences.AsSpan((b * steps + start) * features, length * features).CopyTo(piece.AsSpan(b * length * features));
        return piece;
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float largest = expected.Zip(actual, (x, y) => MathF.Abs(x - y)).Max();
        Assert.True(largest <= tolerance, $"largest difference {largest}, more than {tolerance}");
    }

    private sealed record Alone(float[] Logits, float[][] Hidden, float[][] Cell);

    /// <summary>smnist's logits and every layer's final v and c for one example of <paramref name="steps"/> steps, run alone.</summary>
    private static Alone RunAlone(SequenceClassifier<float> model, float[] example, int steps)
    {
        var workspace = new Workspace<float>(model.Config, steps, maxBatch: 1);
        example.CopyTo(workspace.Inputs.AsSpan()); // (T, 1, d)
        model.Forward(workspace, batch: 1);
        int n = model.Config.HiddenSize, layers = model.Config.Layers;
        return new Alone(workspace.Logits.AsSpan(0, model.Config.Classes).ToArray(),
            Enumerable.Range(0, layers).Select(l => workspace.Outputs[l].AsSpan(steps * n, n).ToArray()).ToArray(),
            Enumerable.Range(0, layers).Select(l => workspace.Cells[l].AsSpan(steps * n, n).ToArray()).ToArray());
    }

    /// <summary>A stateful export in ONNX Runtime.</summary>
    private sealed class StatefulExport : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("smnist-onnx-").FullName;
        private readonly InferenceSession _session;
        private readonly ModelConfig _config;

        public StatefulExport(SequenceClassifier<float> model, SequenceLayout sequence)
        {
            _config = model.Config;
            string path = Path.Combine(_directory, "stateful.onnx");
            OnnxExport.Save(path, model, sequence, stateful: true);
            _session = new InferenceSession(path);
        }

        public sealed record Result(float[] Logits, float[] FinalHidden, float[] FinalCell);

        /// <summary>Runs (B, steps, d) <paramref name="input"/> from the states (layers, B, n) <paramref name="h"/> and <paramref name="c"/>.</summary>
        public Result Run(float[] input, int steps, int[] lengths, float[] h, float[] c)
        {
            int batch = lengths.Length, layers = _config.Layers, n = _config.HiddenSize;
            using var results = _session.Run([
                NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, new DenseTensor<float>(input, [batch, steps, _config.InputSize])),
                NamedOnnxValue.CreateFromTensor(OnnxExport.InitialHiddenName, new DenseTensor<float>(h, [layers, batch, n])),
                NamedOnnxValue.CreateFromTensor(OnnxExport.InitialCellName, new DenseTensor<float>(c, [layers, batch, n])),
                NamedOnnxValue.CreateFromTensor(OnnxExport.SequenceLengthsName, new DenseTensor<int>(lengths, [batch])),
            ]);
            float[] Output(string name) => results.Single(r => r.Name == name).AsEnumerable<float>().ToArray();
            return new Result(Output(OnnxExport.OutputName), Output(OnnxExport.FinalHiddenName), Output(OnnxExport.FinalCellName));
        }

        public void Dispose()
        {
            _session.Dispose();
            Directory.Delete(_directory, recursive: true);
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
                    workspace.Inputs.AsSpan()[(t * batch + b) * d + f] = images[b * ImageSet.Pixels + sequence.PixelAt(t * d + f)] / 255f;
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
