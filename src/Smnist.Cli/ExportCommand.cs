using System.CommandLine;
using Smnist.IO;

namespace Smnist.Cli;

/// <summary><c>smnist export</c>: a saved model as a standard ONNX file, for ONNX Runtime, ML.NET or onnxruntime-web.</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.RequiredModelOption();
        var onnx = CliOptions.Path("--onnx", "FILE", "Where to write the ONNX model (opset 17; input 'input' [batch, T, d], output 'logits' [batch, classes])");
        onnx.Required = true;
        var force = CliOptions.Flag("--force", "Overwrite an existing --onnx file");

        var command = new Command("export", "Export a saved model to ONNX") { model, onnx, force };
        command.SetAction(parsed =>
        {
            LoadedModel loaded = ShippedModels.Load(parsed.GetRequiredValue(model)).Loaded;
            string path = parsed.GetRequiredValue(onnx)!;
            AtomicFile.RequireReplaceable(path);
            if (File.Exists(path) && !parsed.GetValue(force))
                throw new SmnistException($"{path} already exists; pass --force to overwrite it");
            OnnxExport.Save(path, loaded.Model, loaded.Sequence);
            var sequence = loaded.Sequence;
            context.Output.WriteLine($"wrote {path}: input [batch, {sequence.Steps}, {sequence.Features}] ({(sequence.ReadsImages ? $"{sequence.Name}, pixels in [0, 1] in natural order" : "custom sequences")}), output logits [batch, {loaded.Model.Config.Classes}]");
            return 0;
        });
        return command;
    }
}
