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
        var stateful = CliOptions.Flag("--stateful",
            "Also take the inputs initial_h, initial_c [layers, batch, n] and sequence_lens [batch], and give the outputs Y_h, Y_c [layers, batch, n]: a stream read in pieces, sequences of different lengths");

        var command = new Command("export", "Export a saved model to ONNX") { model, onnx, force, stateful };
        command.SetAction(parsed =>
        {
            LoadedModel loaded = ShippedModels.Load(parsed.GetRequiredValue(model)).Loaded;
            string path = parsed.GetRequiredValue(onnx)!;
            AtomicFile.RequireReplaceable(path);
            if (File.Exists(path) && !parsed.GetValue(force))
                throw new SmnistException($"{path} already exists; pass --force to overwrite it");
            var sequence = loaded.Sequence;
            var config = loaded.Model.Config;
            if (parsed.GetValue(stateful))
            {
                OnnxExport.Save(path, loaded.Model, sequence, stateful: true);
                string order = sequence.Permutation is null ? "" : ", steps in the permuted order (metadata 'permutation')";
                context.Output.WriteLine($"wrote {path}: inputs input [batch, steps, {sequence.Features}]{order}, initial_h and initial_c [{config.Layers}, batch, {config.HiddenSize}], sequence_lens [batch] (int32); outputs logits [batch, {config.Classes}], Y_h and Y_c [{config.Layers}, batch, {config.HiddenSize}]");
                return 0;
            }
            OnnxExport.Save(path, loaded.Model, sequence);
            context.Output.WriteLine($"wrote {path}: input [batch, {sequence.Steps}, {sequence.Features}] ({(sequence.ReadsPixels ? $"{sequence.Name}, pixels in [0, 1] in natural order" : sequence.ReadsImages ? $"{sequence.Name}: pen steps (dx, dy, end of stroke, end of digit)" : "custom sequences")}), output logits [batch, {config.Classes}]");
            return 0;
        });
        return command;
    }
}
