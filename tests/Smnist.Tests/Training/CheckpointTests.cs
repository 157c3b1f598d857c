using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smnist-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The model's tensors as a PyTorch user would save them: just the named weights.</summary>
    private static List<SafeTensor> TensorsOf(SequenceClassifier<float> model) =>
        model.Layout.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, model.Parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList();

    [Theory]
    [InlineData(SequenceView.Rows, 1)]
    [InlineData(SequenceView.Pixels, 2)]
    [InlineData(SequenceView.Permuted, 1)]
    public void ModelRoundTripsWithItsConfigurationAndSequence(SequenceView view, int layers)
    {
        SequenceLayout sequence = SequenceLayout.Create(view, permutationSeed: 5);
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, 6, layers), seed: 3);
        string path = Path.Combine(_directory, "model.safetensors");
        ModelCheckpoint.Save(path, model, sequence);

        LoadedModel loaded = ModelCheckpoint.Load(path);
        Assert.Equal(model.Config, loaded.Model.Config);
        Assert.Equal(model.Parameters, loaded.Model.Parameters);
        Assert.Equal(view, loaded.Sequence.View);
        Assert.Equal(sequence.Permutation, loaded.Sequence.Permutation);
    }

    [Fact]
    public void AFileOfJustTheTensorsLoadsWithSizesFromTheShapes()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5, Layers: 2), seed: 4);
        string path = Path.Combine(_directory, "from-pytorch.safetensors");
        SafeTensors.Write(path, TensorsOf(model));

        LoadedModel loaded = ModelCheckpoint.Load(path);
        Assert.Equal(model.Config, loaded.Model.Config);
        Assert.Equal(model.Parameters, loaded.Model.Parameters);
        Assert.Equal(SequenceView.Rows, loaded.Sequence.View);
    }

    [Fact]
    public void ATensorOfTheWrongShapeIsNamed()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5), seed: 4);
        string path = Path.Combine(_directory, "bad.safetensors");
        var tensors = TensorsOf(model);
        tensors[^1] = new SafeTensor("readout.bias", [9], new float[9]);
        SafeTensors.Write(path, tensors);

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("readout.bias", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void MetadataThatContradictsTheTensorsIsRefused()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5), seed: 4);
        string path = Path.Combine(_directory, "lying.safetensors");
        var tensors = TensorsOf(model);
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["input_size"] = "28", ["hidden_size"] = "6", ["layers"] = "1", ["classes"] = "10", ["sequence"] = "rows" });

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("lstm.0.forget.weight", error.Message);
    }

    [Fact]
    public void AnUnexpectedTensorIsRefused()
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5), seed: 4);
        string path = Path.Combine(_directory, "extra.safetensors");
        var tensors = TensorsOf(model);
        tensors.Add(new SafeTensor("lstm.1.forget.bias", [5], new float[5]));
        SafeTensors.Write(path, tensors);

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("unexpected tensor 'lstm.1.forget.bias'", error.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void ANonFiniteWeightIsRefusedNamingItsTensor(float poison)
    {
        var model = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5), seed: 4);
        string path = Path.Combine(_directory, "poisoned.safetensors");
        var tensors = TensorsOf(model);
        tensors[2].Data[3] = poison;
        SafeTensors.Write(path, tensors);

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.Contains($"tensor '{tensors[2].Name}' holds a non-finite value", error.Message);
    }

    [Fact]
    public void MetadataAskingForAnImpossibleModelIsRefusedBeforeAllocating()
    {
        // A tiny file whose metadata asks for 64 layers of 16384 units: 137 billion parameters.
        string path = Path.Combine(_directory, "huge.safetensors");
        SafeTensors.Write(path, [new SafeTensor("readout.bias", [2], [0f, 0f])], new Dictionary<string, string>
        {
            ["input_size"] = "28", ["hidden_size"] = "16384", ["layers"] = "64", ["classes"] = "10", ["sequence"] = "rows",
        });
        Assert.True(new FileInfo(path).Length < 300);

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("parameters, more than one buffer can hold", error.Message);
    }

    [Fact]
    public void MetadataAskingForALargeModelIsCheckedAgainstTheFileBeforeAllocating()
    {
        // 16 layers of 2048 units would be 537 million parameters (2 GB); the file holds two numbers.
        string path = Path.Combine(_directory, "large.safetensors");
        SafeTensors.Write(path, [new SafeTensor("readout.bias", [2], [0f, 0f])], new Dictionary<string, string>
        {
            ["input_size"] = "28", ["hidden_size"] = "2048", ["layers"] = "16", ["classes"] = "10", ["sequence"] = "rows",
        });

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("missing", error.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
    }
}
