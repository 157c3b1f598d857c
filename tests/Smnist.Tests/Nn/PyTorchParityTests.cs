using System.Text.Json;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Optim;
using Xunit.Abstractions;

namespace Smnist.Tests.Nn;

/// <summary>
/// The float engine against fixtures that tools/reference/lstm_reference.py wrote with the notebook's PyTorch model:
/// logits, loss, every gradient, and the parameters after five optimizer steps.
/// </summary>
[Trait("Category", "unit")]
public class PyTorchParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("seed_rows", "fast")]
    [InlineData("seed_rows", "packed")]
    [InlineData("seed_rows", "reference")]
    [InlineData("stacked", "fast")]
    [InlineData("stacked", "packed")]
    [InlineData("stacked", "reference")]
    [InlineData("adamw_clip", "fast")]
    [InlineData("refine_uniform", "fast")]
    [InlineData("refine_uniform", "packed")]
    [InlineData("refine_uniform", "reference")]
    [InlineData("refine_chrono", "fast")]
    [InlineData("refine_chrono", "packed")]
    [InlineData("refine_constant", "fast")]
    [InlineData("lstm_uniform", "fast")]
    [InlineData("lstm_uniform", "packed")]
    [InlineData("lstm_chrono", "fast")]
    public void ForwardBackwardAndAdamMatchPyTorch(string name, string kernels)
    {
        CheckAgainstPyTorch(name, packRecurrentWeights: kernels == "packed", kernels == "reference" ? KernelSet.Reference : KernelSet.Fast);
    }

    /// <summary>A fixture's model shape; "refine_gate" marks a UR-LSTM (absent in the plain LSTM fixtures).</summary>
    private static ModelConfig FixtureConfig(JsonElement configJson) =>
        new(configJson.GetProperty("input_size").GetInt32(), configJson.GetProperty("hidden_size").GetInt32(),
            configJson.GetProperty("layers").GetInt32(), configJson.GetProperty("classes").GetInt32())
        {
            RefineGate = configJson.TryGetProperty("refine_gate", out JsonElement refine) && refine.GetBoolean(),
        };

    /// <summary>
    /// The fixtures of tools/reference/refine_reference.py (UR-LSTM layers, and biases from the chrono and uniform
    /// initialisations) carry "refine_gate" in their config; lstm_reference.py's are plain LSTMs.
    /// </summary>
    private void CheckAgainstPyTorch(string name, bool packRecurrentWeights, KernelSet kernels)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine("Fixtures", "engine", name + ".json")));
        JsonElement root = document.RootElement;
        JsonElement configJson = root.GetProperty("config");
        ModelConfig config = FixtureConfig(configJson);
        int steps = configJson.GetProperty("steps").GetInt32(), batch = configJson.GetProperty("batch").GetInt32();

        var model = new SequenceClassifier<float>(config) { Kernels = kernels };
        Load(root.GetProperty("parameters"), model.Layout, model.Parameters);
        PackedGateWeights? packed = packRecurrentWeights ? new PackedGateWeights(config) : null;
        packed?.Pack(model);
        var workspace = new Workspace<float>(config, steps, batch);
        Floats(root.GetProperty("inputs")).CopyTo(workspace.Inputs.AsSpan());
        int[] labels = root.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        model.Forward(workspace, batch, packed);
        float logitsError = AssertClose(Floats(root.GetProperty("logits")), workspace.Logits.AsSpan(0, batch * config.Classes), 2e-5f, "logits");
        Assert.Equal(root.GetProperty("loss").GetDouble(), model.Loss(workspace, labels) / batch, 5e-6);

        var gradient = new float[model.Layout.Count];
        model.Backward(workspace, labels, 1f / batch, gradient, packed);
        var expectedGradient = new float[model.Layout.Count];
        Load(root.GetProperty("gradients"), model.Layout, expectedGradient);
        float gradientError = 0;
        foreach (ParameterTensor tensor in model.Layout.Tensors)
            gradientError = MathF.Max(gradientError, AssertClose(expectedGradient.AsSpan(tensor.Offset, tensor.Length), gradient.AsSpan(tensor.Offset, tensor.Length), 1e-5f, tensor.Name));
        output.WriteLine($"{name}: logits {logitsError:E1}, gradients {gradientError:E1} (largest error relative to each tensor's scale)");

        JsonElement optimizer = root.GetProperty("optimizer");
        float rate = optimizer.GetProperty("lr").GetSingle();
        float? clip = optimizer.GetProperty("clip").ValueKind == JsonValueKind.Null ? null : optimizer.GetProperty("clip").GetSingle();
        var adam = new Adam(model.Layout.Count, new AdamSettings(WeightDecay: optimizer.GetProperty("weight_decay").GetSingle()));
        for (int step = 0; step < optimizer.GetProperty("steps").GetInt32(); step++)
        {
            packed?.Pack(model);
            model.Forward(workspace, batch, packed);
            model.Backward(workspace, labels, 1f / batch, gradient, packed);
            if (clip is float maxNorm)
                GradientClipping.ClipGlobalNorm(gradient, maxNorm);
            adam.Update(model.Parameters, gradient, rate);
        }
        var expectedAfter = new float[model.Layout.Count];
        Load(root.GetProperty("parameters_after"), model.Layout, expectedAfter);
        foreach (ParameterTensor tensor in model.Layout.Tensors)
            AssertClose(expectedAfter.AsSpan(tensor.Offset, tensor.Length), model.Parameters.AsSpan(tensor.Offset, tensor.Length), 2e-5f, tensor.Name + " after Adam");
    }

    /// <summary>
    /// A ragged batch against tools/reference/ragged_reference.py (ragged_refine_*: the UR-LSTM cell of
    /// refine_reference.py), where the cell runs each sequence alone at its own length: logits (each sequence's last step, or every step), the mean loss (over the sequences, or the
    /// labelled steps) and every gradient.
    /// </summary>
    [Theory]
    [InlineData("ragged_last", "fast")]
    [InlineData("ragged_last", "packed")]
    [InlineData("ragged_last", "reference")]
    [InlineData("ragged_steps", "fast")]
    [InlineData("ragged_steps", "packed")]
    [InlineData("ragged_steps", "reference")]
    [InlineData("ragged_refine_last", "fast")]
    [InlineData("ragged_refine_last", "packed")]
    [InlineData("ragged_refine_steps", "fast")]
    [InlineData("ragged_refine_steps", "reference")]
    public void RaggedBatchesMatchPyTorch(string name, string kernels)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine("Fixtures", "engine", name + ".json")));
        JsonElement root = document.RootElement;
        JsonElement configJson = root.GetProperty("config");
        ModelConfig config = FixtureConfig(configJson);
        int steps = configJson.GetProperty("steps").GetInt32(), batch = configJson.GetProperty("batch").GetInt32(), classes = config.Classes;
        int[] lengths = root.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] order = RaggedPacking.Order(lengths);
        JsonElement labelsJson = root.GetProperty("labels");
        bool perStep = labelsJson[0].ValueKind == JsonValueKind.Array;

        var model = new SequenceClassifier<float>(config) { Kernels = kernels == "reference" ? KernelSet.Reference : KernelSet.Fast };
        Load(root.GetProperty("parameters"), model.Layout, model.Parameters);
        PackedGateWeights? packed = kernels == "packed" ? new PackedGateWeights(config) : null;
        packed?.Pack(model);
        var workspace = new Workspace<float>(config, steps, batch);
        RaggedPacking.Inputs<float>(Floats(root.GetProperty("inputs")), lengths, config.InputSize, workspace.Inputs);
        int[] labels = perStep
            ? RaggedPacking.StepLabels(labelsJson.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(e => e.GetInt32())).ToArray(), lengths)
            : order.Select(example => labelsJson[example].GetInt32()).ToArray();
        int scored = RaggedPacking.Labelled(labels);

        model.Forward(workspace, RaggedPacking.SortedLengths(lengths), perStep ? ReadoutAt.EveryStep : ReadoutAt.LastStep, packed);
        float[] expectedLogits = Floats(root.GetProperty("logits"));
        var expected = new List<float>();
        var actual = new List<float>();
        for (int b = 0; b < batch; b++)
        {
            int example = order[b];
            if (!perStep)
            {
                expected.AddRange(expectedLogits.AsSpan(example * classes, classes).ToArray());
                actual.AddRange(workspace.Logits.AsSpan(b * classes, classes).ToArray());
                continue;
            }
            for (int t = 0; t < lengths[example]; t++)
            {
                expected.AddRange(expectedLogits.AsSpan((t * batch + example) * classes, classes).ToArray());
                actual.AddRange(workspace.StepLogits(t, b).ToArray());
            }
        }
        float logitsError = AssertClose(expected.ToArray(), actual.ToArray(), 2e-5f, "logits");
        double loss = model.Loss(workspace, labels) / scored;
        Assert.Equal(root.GetProperty("loss").GetDouble(), loss, 5e-6);

        var gradient = new float[model.Layout.Count];
        model.Backward(workspace, labels, 1f / scored, gradient, packed);
        var expectedGradient = new float[model.Layout.Count];
        Load(root.GetProperty("gradients"), model.Layout, expectedGradient);
        float gradientError = 0;
        foreach (ParameterTensor tensor in model.Layout.Tensors)
            gradientError = MathF.Max(gradientError, AssertClose(expectedGradient.AsSpan(tensor.Offset, tensor.Length), gradient.AsSpan(tensor.Offset, tensor.Length), 1e-5f, tensor.Name));
        output.WriteLine($"{name} {kernels}: logits {logitsError:E1}, loss {Math.Abs(loss - root.GetProperty("loss").GetDouble()):E1}, gradients {gradientError:E1} (largest error relative to each tensor's scale)");
    }

    [Fact]
    public void AStateDictExportedFromPyTorchLoadsAndGivesTheSameLogits()
    {
        LoadedModel loaded = ModelCheckpoint.Load(Path.Combine("Fixtures", "engine", "seed_rows.safetensors"));
        Assert.Equal(new ModelConfig(28, 16, 1, 10), loaded.Model.Config);
        Assert.Equal(SequenceView.Rows, loaded.Sequence.View);

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine("Fixtures", "engine", "seed_rows.json")));
        JsonElement root = document.RootElement;
        int batch = root.GetProperty("config").GetProperty("batch").GetInt32();
        var workspace = new Workspace<float>(loaded.Model.Config, loaded.Sequence.Steps, batch);
        Floats(root.GetProperty("inputs")).CopyTo(workspace.Inputs.AsSpan());
        loaded.Model.Forward(workspace, batch);
        AssertClose(Floats(root.GetProperty("logits")), workspace.Logits.AsSpan(0, batch * 10), 2e-5f, "logits");
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    private static void Load(JsonElement tensors, ParameterLayout layout, float[] destination)
    {
        foreach (ParameterTensor tensor in layout.Tensors)
        {
            float[] values = Floats(tensors.GetProperty(tensor.Name));
            Assert.Equal(tensor.Length, values.Length);
            values.CopyTo(destination, tensor.Offset);
        }
    }

    /// <summary>
    /// Each element within <paramref name="tolerance"/> of the expected value, relative to the tensor's largest
    /// magnitude (at least 1); returns the largest such relative error.
    /// </summary>
    private static float AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1f, largest = 0f;
        foreach (float e in expected) scale = MathF.Max(scale, MathF.Abs(e));
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(MathF.Abs(expected[k] - actual[k]) <= tolerance * scale, $"{what}[{k}]: expected {expected[k]}, got {actual[k]}");
            largest = MathF.Max(largest, MathF.Abs(expected[k] - actual[k]) / scale);
        }
        return largest;
    }
}
