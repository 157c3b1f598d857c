using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>
/// <c>smnist predict</c>: classifies image files (decoded by <see cref="ImageFile"/>, so the library stays free of
/// image formats) or a test-set image by index.
/// </summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.ModelOption();
        var images = new Argument<string[]>("IMAGE")
        {
            Description = "PNG or JPEG files of one digit each, up to 4096×4096 pixels, grey or colour, dark on light or light on dark",
            Arity = ArgumentArity.ZeroOrMore,
        };
        CliOptions.RequireNonEmptyPaths(images);
        var index = CliOptions.Number("--index", "K", "Classify test-set image K instead of files", 0, int.MaxValue);
        var dataDir = DataLoading.DataDirOption();
        var dataset = DataLoading.DatasetOption();
        var json = CliOptions.Flag("--json", "Print one JSON object with the predictions and nothing else on stdout");

        var command = new Command("predict", "Predict the digit in images, or in a test-set image") { model, images, index, dataDir, dataset, json };
        DataLoading.RequireImagesOrIndex(command, images, index);
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetValue(model));
            LoadedModel loaded = choice.Loaded;
            var predictions = new List<Prediction>();
            var failures = new List<(string Image, string Error)>();
            if (parsed.GetValue(index) is int k)
            {
                ImageSet test = DataLoading.TestSetHolding(context, k, parsed.GetValue(dataset), parsed.GetValue(dataDir));
                predictions.Add(Predict(loaded, $"test image {k}", test.Image(k), test.Labels[k]));
            }
            else
            {
                // One unreadable image does not hide the others: each failure is its own line, and the exit code says some failed.
                foreach (string path in parsed.GetValue(images)!)
                {
                    try
                    {
                        predictions.Add(Predict(loaded, path, ImageFile.ReadDigit(path), label: null));
                    }
                    catch (SmnistException e)
                    {
                        failures.Add((path, SmnistException.OneLine(e.Message)));
                        context.Error.WriteLine($"error: {SmnistException.OneLine(e.Message)}");
                    }
                }
            }

            if (parsed.GetValue(json))
                context.Output.WriteLine(Json(choice.Name, predictions, failures).ToJsonString());
            else
                Print(context.Output, predictions);
            return failures.Count == 0 ? 0 : Cli.Failure;
        });
        return command;
    }

    private sealed record Prediction(string Source, int Digit, float[] Probabilities, int? Label);

    private static Prediction Predict(LoadedModel loaded, string source, ReadOnlySpan<byte> image, int? label)
    {
        float[] probabilities = Predictor.Probabilities(loaded.Model, loaded.Sequence, image);
        return new Prediction(source, TensorPrimitives.IndexOfMax<float>(probabilities), probabilities, label);
    }

    private static JsonObject Json(string modelPath, List<Prediction> predictions, List<(string Image, string Error)> failures)
    {
        var items = new JsonArray();
        foreach (Prediction p in predictions)
        {
            var item = new JsonObject
            {
                ["image"] = p.Source,
                ["digit"] = p.Digit,
                ["probabilities"] = new JsonArray(p.Probabilities.Select(v => float.IsFinite(v) ? (JsonNode?)JsonValue.Create(v) : null).ToArray()),
            };
            if (p.Label is int label)
                item["label"] = label;
            items.Add(item);
        }
        var result = new JsonObject { ["model"] = modelPath, ["predictions"] = items };
        if (failures.Count > 0)
            result["errors"] = new JsonArray(failures.Select(f => (JsonNode?)new JsonObject { ["image"] = f.Image, ["error"] = f.Error }).ToArray());
        return result;
    }

    private static void Print(TextWriter output, List<Prediction> predictions)
    {
        foreach (Prediction p in predictions)
        {
            string label = p.Label is int known ? $" (label {known})" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Source}{label}: {p.Digit} ({p.Probabilities[p.Digit] * 100:F1}%)"));
            output.WriteLine("  " + string.Join("  ", p.Probabilities.Select((v, k) => string.Create(CultureInfo.InvariantCulture, $"{k}: {v:F3}"))));
        }
    }
}
