using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Smnist.IO;

namespace Smnist.Tests.Cli;

/// <summary>
/// A short UR-LSTM run (<c>--refine-gate --gate-init uniform</c>) on the committed subset, interrupted by
/// --max-steps and resumed, then every command that reads its model file.
/// </summary>
[Trait("Category", "command")]
public sealed class RefineGateCommandTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ARefineGateRunResumesAndItsModelIsReadByEveryCommand()
    {
        string run = _directory["run"];
        CliHarness.Succeeds("train", "--data-dir", CliHarness.DataDir, "--out", run, "--refine-gate", "--gate-init", "uniform",
            "--epochs", "1", "--batch-size", "16", "--hidden", "16", "--threads", "2", "--limit-train", "320", "--limit-test", "100", "--max-steps", "10");
        CliHarness.Succeeds("train", "--resume", run);

        using (JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            Assert.Equal("uniform", config.RootElement.GetProperty("gate_init").GetString());
            Assert.True(config.RootElement.GetProperty("refine_gate").GetBoolean());
        }
        string model = Path.Combine(run, ModelCheckpoint.ModelFileName);
        LoadedModel loaded = ModelCheckpoint.Load(model);
        Assert.True(loaded.Model.Config.RefineGate);
        Assert.Contains(loaded.Model.Layout.Tensors, t => t.Name == "lstm.0.refine.weight");
        Assert.Equal("true", SafeTensors.Read(model).Metadata[ModelCheckpoint.RefineGateKey]);

        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        using JsonDocument eval = JsonDocument.Parse(CliHarness.Succeeds("eval", "--model", model, "--data-dir", CliHarness.DataDir, "--limit-test", "100", "--json").Out);
        Assert.Equal(metrics.RootElement.GetProperty("test_accuracy").GetDouble(), eval.RootElement.GetProperty("accuracy").GetDouble());

        CliHarness.Succeeds("predict", "--model", model, "--index", "0", "--data-dir", CliHarness.DataDir);
        var explained = CliHarness.Succeeds("explain", "--model", model, "--index", "0", "--data-dir", CliHarness.DataDir, "--out", _directory["figures"], "--json");
        using JsonDocument trace = JsonDocument.Parse(explained.Out);
        JsonElement first = trace.RootElement.GetProperty("traces")[0];
        foreach (string key in new[] { "forget", "input_gate", "refine", "output", "cell" })
            Assert.Equal(28, first.GetProperty(key).GetArrayLength());
        string svg = File.ReadAllText(Path.Combine(_directory["figures"], "explain-test-0.svg")).Replace("&#32;", " ");
        Assert.Contains("effective forget gate g", svg);
        Assert.Contains("refine gate r", svg);

        // ONNX Runtime runs both exports with the plain model's contract; OnnxExportTests checks their results.
        CliHarness.Succeeds("export", "--model", model, "--onnx", _directory["model.onnx"]);
        using (var session = new InferenceSession(_directory["model.onnx"]))
        {
            Assert.Equal([OnnxExport.InputName], session.InputNames);
            Assert.Equal([OnnxExport.OutputName], session.OutputNames);
        }
        CliHarness.Succeeds("export", "--model", model, "--onnx", _directory["stateful.onnx"], "--stateful");
        using (var session = new InferenceSession(_directory["stateful.onnx"]))
        {
            Assert.Equal([OnnxExport.InputName, OnnxExport.InitialHiddenName, OnnxExport.InitialCellName, OnnxExport.SequenceLengthsName], session.InputNames);
            Assert.Equal([OnnxExport.OutputName, OnnxExport.FinalHiddenName, OnnxExport.FinalCellName], session.OutputNames);
        }
    }

    [Fact]
    public void BenchTimesTheRefineGate()
    {
        var outcome = CliHarness.Succeeds("bench", "--refine-gate", "--batch-size", "4", "--hidden", "8", "--steps", "3", "--threads", "1", "--json");
        using JsonDocument json = JsonDocument.Parse(outcome.Out);
        Assert.True(json.RootElement.GetProperty("refine_gate").GetBoolean());
        Assert.True(json.RootElement.GetProperty("samples_per_second").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--gate-init chrono draws the forget and input biases; --forget-bias and --input-bias go with --gate-init constant", "--gate-init", "chrono", "--forget-bias", "1")]
    [InlineData("--gate-init uniform draws the forget and input biases", "--gate-init", "uniform", "--input-bias", "-1")]
    [InlineData("--refine-gate and --no-refine-gate contradict each other", "--refine-gate", "--no-refine-gate")]
    [InlineData("--gate-init must be one of constant, chrono, uniform (got 'zero')", "--gate-init", "zero")]
    public void ContradictoryGateOptionsAreUsageErrors(string message, params string[] args)
    {
        CliHarness.FailsWith(Smnist.Cli.Cli.UsageError, message, ["train", "--data-dir", CliHarness.DataDir, "--out", _directory["run"], .. args]);
    }
}
