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
/// image formats), a test-set image by index, or every sequence of a sequence file (--data).
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
        var data = CliOptions.Path("--data", "FILE", "Classify every sequence of this .jsonl or .ts file instead (a model trained with smnist train --data; see docs/sequences.md)");
        var steps = CliOptions.Flag("--steps", "With --data: also give the class probabilities after every step of each sequence");

        var command = new Command("predict", "Predict the digit in images or a test-set image, or the class of your own sequences") { model, images, index, dataDir, dataset, json, data, steps };
        command.Validators.Add(result =>
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            bool hasImages = result.GetValue(images) is { Length: > 0 };
            if (Given(data) && (hasImages || Given(index) || Given(dataset) || Given(dataDir)))
                result.AddError("--data classifies a sequence file; give it without image files, --index, --dataset or --data-dir");
            else if (!Given(data) && hasImages == Given(index))
                result.AddError("give either image files, --index K or --data FILE (one of them)");
            if (Given(steps) && !Given(data))
                result.AddError("--steps is for --data's sequences");
        });
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetValue(model));
            LoadedModel loaded = choice.Loaded;
            if (parsed.GetValue(data) is string dataPath)
            {
                SequenceFile file = SequenceFiles.ForModel(dataPath, loaded, choice.Name, needLabels: false);
                List<SequencePrediction> classified = PredictFile(loaded, file, parsed.GetValue(steps));
                if (parsed.GetValue(json))
                    context.Output.WriteLine(Json(choice.Name, classified).ToJsonString());
                else
                    Print(context.Output, file, classified);
                return 0;
            }
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

    /// <summary>One sequence's class and probabilities, its label if the file gives one, and with --steps the (T, K) probabilities after every step.</summary>
    private sealed record SequencePrediction(int Index, int Class, float[] Probabilities, int? Label, float[][]? StepProbabilities);

    private static List<SequencePrediction> PredictFile(LoadedModel loaded, SequenceFile file, bool everyStep)
    {
        var predictions = new List<SequencePrediction>(file.Count);
        for (int i = 0; i < file.Count; i++)
        {
            float[][]? stepProbabilities = everyStep ? Predictor.StepProbabilities(loaded.Model, file.Sequence(i)) : null;
            float[] probabilities = stepProbabilities?[^1] ?? Predictor.Probabilities(loaded.Model, file.Sequence(i));
            int? label = file.HasLabels && !file.LabelsPerStep ? file.Label(i) : null;
            predictions.Add(new SequencePrediction(i, TensorPrimitives.IndexOfMax<float>(probabilities), probabilities, label, stepProbabilities));
        }
        return predictions;
    }

    private static JsonObject Json(string modelPath, List<SequencePrediction> predictions)
    {
        var items = new JsonArray();
        foreach (SequencePrediction p in predictions)
        {
            var item = new JsonObject { ["index"] = p.Index, ["class"] = p.Class, ["probabilities"] = Numbers(p.Probabilities) };
            if (p.Label is int label)
                item["label"] = label;
            if (p.StepProbabilities is float[][] perStep)
                item["steps"] = new JsonArray(perStep.Select(row => (JsonNode?)Numbers(row)).ToArray());
            items.Add(item);
        }
        return new JsonObject { ["model"] = modelPath, ["predictions"] = items };
    }

    private static void Print(TextWriter output, SequenceFile file, List<SequencePrediction> predictions)
    {
        foreach (SequencePrediction p in predictions)
        {
            string label = p.Label is int known ? $", label {known}" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sequence {p.Index} (line {file.LineOf(p.Index)}{label}): class {p.Class} ({p.Probabilities[p.Class] * 100:F1}%)"));
            output.WriteLine("  " + Probabilities(p.Probabilities));
            if (p.StepProbabilities is float[][] perStep)
            {
                for (int t = 0; t < perStep.Length; t++)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {t + 1}: {Probabilities(perStep[t])}"));
            }
        }
    }

    private static string Probabilities(float[] probabilities) =>
        string.Join("  ", probabilities.Select((v, k) => string.Create(CultureInfo.InvariantCulture, $"{k}: {v:F3}")));

    private static JsonArray Numbers(float[] values) =>
        new(values.Select(v => float.IsFinite(v) ? (JsonNode?)JsonValue.Create(v) : null).ToArray());

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
