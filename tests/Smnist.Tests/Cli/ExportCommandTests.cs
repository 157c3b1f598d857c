using Microsoft.ML.OnnxRuntime;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;

namespace Smnist.Tests.Cli;

[Trait("Category", "command")]
public sealed class ExportCommandTests
{
    [Fact]
    public void WritesAnOnnxFileThatOnnxRuntimeLoads()
    {
        using var dir = CliHarness.TempDir();
        SaveModel(dir["model.safetensors"], SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 3));

        var outcome = CliHarness.Succeeds("export", "--model", dir["model.safetensors"], "--onnx", dir["model.onnx"]);

        Assert.Contains("input [batch, 784, 1] (permuted", outcome.Out);
        using var session = new InferenceSession(dir["model.onnx"]);
        Assert.Equal([-1, 784, 1], session.InputMetadata["input"].Dimensions);
        Assert.Equal([-1, 10], session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void KeepsAnExistingFileUnlessForced()
    {
        using var dir = CliHarness.TempDir();
        SaveModel(dir["model.safetensors"], SequenceLayout.Create(SequenceView.Rows));
        File.WriteAllText(dir["model.onnx"], "mine");

        var refused = CliHarness.Run("export", "--model", dir["model.safetensors"], "--onnx", dir["model.onnx"]);

        Assert.Equal(Smnist.Cli.Cli.Failure, refused.Exit);
        Assert.Contains("already exists; pass --force", refused.Err);
        Assert.Equal("mine", File.ReadAllText(dir["model.onnx"]));
        CliHarness.Succeeds("export", "--model", dir["model.safetensors"], "--onnx", dir["model.onnx"], "--force");
        Assert.NotEqual("mine", File.ReadAllText(dir["model.onnx"]));
    }

    [Fact]
    public void NeedsBothPaths()
    {
        var outcome = CliHarness.Run("export", "--model", "x.safetensors");

        Assert.Equal(Smnist.Cli.Cli.UsageError, outcome.Exit);
        Assert.Contains("--onnx", outcome.Err);
    }

    private static void SaveModel(string path, SequenceLayout sequence) =>
        ModelCheckpoint.Save(path, SequenceClassifier<float>.Initialize(new ModelConfig(sequence.Features, 6), seed: 1), sequence);
}
