using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.Imaging;
using Smnist.IO;
using Smnist.Training;
using StbImageSharp;

namespace Smnist.Cli;

/// <summary>
/// <c>smnist predict</c>: classifies image files (decoded here with StbImageSharp, so the library stays free of
/// image formats, then brought to MNIST's convention by <see cref="DigitImage"/>) or a test-set image by index.
/// </summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.ModelOption();
        var images = new Argument<string[]>("IMAGE")
        {
            Description = "PNG or JPEG files of one digit each, any size, grey or colour, dark on light or light on dark",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var index = CliOptions.Number("--index", "K", "Classify test-set image K instead of files", 0, int.MaxValue);
        var dataDir = DataLoading.DataDirOption();
        var dataset = DataLoading.DatasetOption();
        var json = CliOptions.Flag("--json", "Print one JSON object with the predictions and nothing else on stdout");

        var command = new Command("predict", "Predict the digit in images, or in a test-set image") { model, images, index, dataDir, dataset, json };
        command.Validators.Add(result =>
        {
            bool hasImages = result.GetValue(images) is { Length: > 0 };
            bool hasIndex = result.GetResult(index) is { Implicit: false };
            if (hasImages == hasIndex)
                result.AddError("give either image files or --index K (not both)");
        });
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetValue(model));
            LoadedModel loaded = choice.Loaded;
            var predictions = new List<Prediction>();
            if (parsed.GetValue(index) is int k)
            {
                ImageSet test = DataLoading.Load(context, parsed.GetValue(dataset) ?? DatasetKind.Mnist, parsed.GetValue(dataDir)).Test;
                if (k >= test.Count)
                    throw new SmnistException($"--index {k} is past the end of the test set ({test.Count} images, 0 to {test.Count - 1})");
                predictions.Add(Predict(loaded, $"test image {k}", test.Image(k), test.Labels[k]));
            }
            else
            {
                foreach (string path in parsed.GetValue(images)!)
                    predictions.Add(Predict(loaded, path, ReadImage(path), label: null));
            }

            if (parsed.GetValue(json))
                context.Output.WriteLine(Json(choice.Name, predictions).ToJsonString());
            else
                Print(context.Output, predictions);
            return 0;
        });
        return command;
    }

    private sealed record Prediction(string Source, int Digit, float[] Probabilities, int? Label);

    private static Prediction Predict(LoadedModel loaded, string source, ReadOnlySpan<byte> image, int? label)
    {
        float[] probabilities = Predictor.Probabilities(loaded.Model, loaded.Sequence, image);
        return new Prediction(source, TensorPrimitives.IndexOfMax<float>(probabilities), probabilities, label);
    }

    /// <summary>Decodes an image file and brings it to MNIST's 28×28 white-on-black convention.</summary>
    internal static byte[] ReadImage(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SmnistException($"{path}: cannot be read ({(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)})", e);
        }
        return ToMnist(bytes, path);
    }

    /// <summary>Images wider or taller than this are refused before decoding: a small compressed file can decode to gigabytes.</summary>
    internal const int MaxImageSide = 8192;

    /// <summary>Decodes PNG or JPEG bytes and brings the digit to MNIST's 28×28 white-on-black convention; <paramref name="source"/> names it in messages.</summary>
    internal static byte[] ToMnist(byte[] bytes, string source)
    {
        ImageInfo? info = ImageInfo.FromStream(new MemoryStream(bytes, writable: false));
        if (info is { } size && (size.Width > MaxImageSide || size.Height > MaxImageSide))
            throw new SmnistException($"{source}: the image is {size.Width}×{size.Height} pixels; at most {MaxImageSide} on each side are read");

        ImageResult decoded;
        try
        {
            decoded = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlueAlpha);
        }
        catch (Exception e)
        {
            // StbImageSharp reports any undecodable input with a plain Exception.
            throw new SmnistException($"{source}: not a readable PNG or JPEG image ({Cli.OneLine(e.Message)})", e);
        }

        try
        {
            return DigitImage.ToMnist(decoded.Data, decoded.Width, decoded.Height, channels: 4);
        }
        catch (SmnistException e)
        {
            throw new SmnistException($"{source}: {e.Message}", e);
        }
    }

    private static JsonObject Json(string modelPath, List<Prediction> predictions)
    {
        var items = new JsonArray();
        foreach (Prediction p in predictions)
        {
            var item = new JsonObject
            {
                ["image"] = p.Source,
                ["digit"] = p.Digit,
                ["probabilities"] = new JsonArray(p.Probabilities.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
            };
            if (p.Label is int label)
                item["label"] = label;
            items.Add(item);
        }
        return new JsonObject { ["model"] = modelPath, ["predictions"] = items };
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
