using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Tests.Cli;

namespace Smnist.Tests.IO;

/// <summary>A UR-LSTM's model file: the refine gate recorded in the metadata and in the tensor names; plain files as before.</summary>
[Trait("Category", "unit")]
public sealed class RefineGateCheckpointTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    private static SequenceLayout Rows => SequenceLayout.Create(SequenceView.Rows);

    [Fact]
    public void ARefineModelRoundTripsAndAPlainOneHasNoRefineKey()
    {
        var refine = SequenceClassifier<float>.Initialize(new ModelConfig(28, 6, Layers: 2) { RefineGate = true }, seed: 3, gateInit: GateInit.Uniform);
        var plain = SequenceClassifier<float>.Initialize(new ModelConfig(28, 6, Layers: 2), seed: 3);
        ModelCheckpoint.Save(_directory["refine.safetensors"], refine, Rows);
        ModelCheckpoint.Save(_directory["plain.safetensors"], plain, Rows);

        LoadedModel loaded = ModelCheckpoint.Load(_directory["refine.safetensors"]);
        Assert.Equal(refine.Config, loaded.Model.Config);
        Assert.Equal(refine.Parameters, loaded.Model.Parameters);
        SafeTensorsFile file = SafeTensors.Read(_directory["refine.safetensors"]);
        Assert.Equal("true", file.Metadata[ModelCheckpoint.RefineGateKey]);
        Assert.True(file.TryGet("lstm.1.refine.bias", out _));
        Assert.False(file.TryGet("lstm.1.input.bias", out _));

        Assert.DoesNotContain(ModelCheckpoint.RefineGateKey, SafeTensors.Read(_directory["plain.safetensors"]).Metadata.Keys);
        Assert.False(ModelCheckpoint.Load(_directory["plain.safetensors"]).Model.Config.RefineGate);
    }

    [Fact]
    public void AFileWithoutMetadataIsARefineModelWhenItNamesTheRefineGate()
    {
        var refine = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5) { RefineGate = true }, seed: 4);
        SafeTensors.Write(_directory["bare.safetensors"], Tensors(refine));

        LoadedModel loaded = ModelCheckpoint.Load(_directory["bare.safetensors"]);
        Assert.True(loaded.Model.Config.RefineGate);
        Assert.Equal(refine.Parameters, loaded.Model.Parameters);
    }

    [Fact]
    public void ARefineKeyThatIsNotTrueOrFalseIsRefused()
    {
        var plain = SequenceClassifier<float>.Initialize(new ModelConfig(28, 5), seed: 4);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "smnist-lstm", ["input_size"] = "28", ["hidden_size"] = "5", ["layers"] = "1", ["classes"] = "10",
            ["sequence"] = "rows", ["steps"] = "28", [ModelCheckpoint.RefineGateKey] = "yes",
        };
        SafeTensors.Write(_directory["odd.safetensors"], Tensors(plain), metadata);

        var error = Assert.Throws<SmnistException>(() => ModelCheckpoint.Load(_directory["odd.safetensors"]));
        Assert.Equal($"{_directory["odd.safetensors"]}: metadata 'refine_gate' must be true or false, not 'yes'", error.Message);
    }

    private static List<SafeTensor> Tensors(SequenceClassifier<float> model) =>
        model.Layout.Tensors.Select(t => new SafeTensor(t.Name, t.Shape, model.Parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList();
}
