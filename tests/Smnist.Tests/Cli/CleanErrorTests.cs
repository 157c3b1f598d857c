using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;

namespace Smnist.Tests.Cli;

/// <summary>Inputs that once ended in "internal error" (exit 70) end in one line naming the problem.</summary>
[Trait("Category", "command")]
public sealed class CleanErrorTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(3)]
    [InlineData(12)]
    public void EvalOfAModelWithAnotherClassCountIsRefused(int classes)
    {
        string path = _directory["model.safetensors"];
        ModelCheckpoint.Save(path, SequenceClassifier<float>.Initialize(new ModelConfig(28, 4, Classes: classes), seed: 1), SequenceLayout.Create(SequenceView.Rows));

        var outcome = CliHarness.FailsWith(1, $"{path}: the model predicts {classes} classes, and the mnist test set has 10", "eval", "--model", path, "--data-dir", CliHarness.DataDir, "--json");
        Assert.Empty(outcome.Out);
    }

    [Theory]
    [InlineData("predict", "")]
    [InlineData("predict", "a.png", "")]
    [InlineData("explain", "")]
    [InlineData("explain", " ", "--json")]
    public void AnEmptyImagePathIsAUsageError(params string[] args)
    {
        var outcome = CliHarness.FailsWith(2, "IMAGE needs a path, not an empty string", args);
        Assert.Empty(outcome.Out);
    }
}
