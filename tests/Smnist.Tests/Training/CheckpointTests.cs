using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;

namespace Smnist.Tests.Training;

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
}
