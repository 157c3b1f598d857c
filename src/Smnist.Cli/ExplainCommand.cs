using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Smnist.Cli.Serve;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>
/// <c>smnist explain</c>: how the model reads each image, step by step, as a figure (explain-NAME.png and .svg),
/// one line per image, or (--json) the whole trace in the API's form.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.ModelOption();
        var images = new Argument<string[]>("IMAGE")
        {
            Description = "PNG or JPEG files of one digit each, brought to MNIST's form as predict does",
            Arity = ArgumentArity.ZeroOrMore,
        };
        CliOptions.RequireNonEmptyPaths(images);
        var index = CliOptions.Number("--index", "K", "Explain test-set image K instead of files", 0, int.MaxValue);
        var outDir = CliOptions.Path("--out", "DIR", "Folder for the figures explain-NAME.png and .svg [default: the current folder]");
        var json = CliOptions.Flag("--json", "Print one JSON object with every image's whole trace (the API's keys) instead of the summary lines");
        var dataDir = DataLoading.DataDirOption();
        var dataset = DataLoading.DatasetOption();

        var command = new Command("explain", "Show how the network reads images row by row: probabilities, gates and cell state over the timesteps")
        {
            model, images, index, outDir, json, dataDir, dataset,
        };
        DataLoading.RequireImagesOrIndex(command, images, index);
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetValue(model));
            var inputs = new List<(string Source, string Name, byte[] Image, int? Label)>();
            if (parsed.GetValue(index) is int k)
            {
                ImageSet test = DataLoading.TestSetHolding(context, k, parsed.GetValue(dataset), parsed.GetValue(dataDir));
                inputs.Add(($"test image {k}", $"test-{k}", test.Image(k).ToArray(), test.Labels[k]));
            }
            else
            {
                foreach (string path in parsed.GetValue(images)!)
                    inputs.Add((path, Path.GetFileNameWithoutExtension(path), ImageFile.ReadDigit(path), null));
            }
            var repeated = inputs.GroupBy(i => i.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null)
                throw new SmnistException($"two images would both write explain-{repeated.Key}.png ({string.Join(", ", repeated.Select(i => i.Source))}); explain them one at a time with different --out folders");

            string folder = parsed.GetValue(outDir) ?? ".";
            Directory.CreateDirectory(folder);
            var trace = new ReadingTrace(choice.Loaded.Model, choice.Loaded.Sequence);
            bool asJson = parsed.GetValue(json);
            using var jsonText = new MemoryStream();
            using var writer = new Utf8JsonWriter(jsonText);
            if (asJson)
            {
                writer.WriteStartObject();
                writer.WriteString("model", choice.Name);
                writer.WriteStartArray("traces");
            }
            foreach ((string source, string name, byte[] image, int? label) in inputs)
            {
                trace.Read(image);
                string labelText = label is int known ? $" (label {known})" : "";
                string title = string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetFileName(source)}{labelText}: {trace.Digit} ({trace.Probabilities[trace.Digit] * 100:F1} %), decided at {ExplainFigure.StepName(trace.Sequence)} {trace.DecidedAt} of {trace.Steps}");
                string png = Path.Combine(folder, $"explain-{name}.png");
                ExplainFigure.Write(trace, title, png, Path.ChangeExtension(png, ".svg"));
                if (!asJson)
                {
                    context.Output.WriteLine($"{title} -> {png}");
                    continue;
                }
                writer.WriteStartObject();
                writer.WriteString("image", source);
                if (label is int l)
                    writer.WriteNumber("label", l);
                TraceJson.WriteProperties(writer, trace, gates: true);
                writer.WriteEndObject();
            }
            if (asJson)
            {
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.Flush();
                context.Output.WriteLine(System.Text.Encoding.UTF8.GetString(jsonText.ToArray()));
            }
            return 0;
        });
        return command;
    }
}
