using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;
using Spectre.Console;

namespace Smnist.Cli;

/// <summary><c>smnist eval</c>: a saved model's accuracy, loss, per-class accuracy and confusion matrix on the test set.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = ShippedModels.RequiredModelOption();
        var dataDir = DataLoading.DataDirOption();
        var dataset = DataLoading.DatasetOption();
        var limitTest = CliOptions.Number("--limit-test", "N", "Evaluate on the first N test examples only", 1, int.MaxValue);
        var augmentTest = CliOptions.Flag("--augment-test", "Evaluate on augmented test images (the notebook's protocol) instead of the clean test set");
        var seed = CliOptions.Number("--seed", "N", "Seeds the test augmentation", 0UL, ulong.MaxValue, "default: 1");
        var threads = CliOptions.Number("--threads", "N", "Worker threads; 0 for one per processor", 0, 256, "default: 0");
        var json = CliOptions.Flag("--json", "Print one JSON object (accuracy, loss, samples, per-class accuracy, confusion) and nothing else on stdout");

        var command = new Command("eval", "Evaluate a saved model on the test set") { model, dataDir, dataset, limitTest, augmentTest, seed, threads, json };
        command.SetAction(parsed =>
        {
            ModelChoice choice = ShippedModels.Load(parsed.GetRequiredValue(model));
            LoadedModel loaded = choice.Loaded;
            DatasetKind kind = parsed.GetValue(dataset) ?? DatasetKind.Mnist;
            // Every test label is one of the data set's classes; a model with other classes cannot be scored on them.
            if (loaded.Model.Config.Classes != ImageSet.Classes)
                throw new SmnistException($"{choice.Name}: the model predicts {loaded.Model.Config.Classes} classes, and the {DatasetKindNames.NameOf(kind)} test set has {ImageSet.Classes}");
            ImageSet test = DataLoading.Load(context, kind, parsed.GetValue(dataDir)).Test;
            if (parsed.GetValue(limitTest) is int limit)
                test = test.Take(limit);
            bool augment = parsed.GetValue(augmentTest);
            EvaluationResult result = Evaluator.Evaluate(loaded.Model, loaded.Sequence, test, augment, parsed.GetValue(seed) ?? 1, parsed.GetValue(threads) ?? 0);

            if (parsed.GetValue(json))
                context.Output.WriteLine(Json(choice.Name, kind, augment, result).ToJsonString());
            else
                Print(context.Output, context.Console, choice.Name, augment, result);
            return 0;
        });
        return command;
    }

    private static JsonObject Json(string model, DatasetKind kind, bool augment, EvaluationResult result)
    {
        var confusion = new JsonArray();
        for (int actual = 0; actual < result.Confusion.GetLength(0); actual++)
        {
            var row = new JsonArray();
            for (int predicted = 0; predicted < result.Confusion.GetLength(1); predicted++)
                row.Add(result.Confusion[actual, predicted]);
            confusion.Add(row);
        }
        var perClass = new JsonArray();
        foreach (double accuracy in result.PerClassAccuracy())
            perClass.Add(double.IsNaN(accuracy) ? null : accuracy);
        return new JsonObject
        {
            ["model"] = model,
            ["dataset"] = DatasetKindNames.NameOf(kind),
            ["augment_test"] = augment,
            ["samples"] = result.Samples,
            ["accuracy"] = result.Accuracy,
            // Finite weights can still overflow the logits; JSON has no infinity, so such a loss is null.
            ["loss"] = double.IsFinite(result.Loss) ? result.Loss : null,
            ["per_class_accuracy"] = perClass,
            ["confusion"] = confusion,
        };
    }

    private static void Print(TextWriter output, IAnsiConsole console, string model, bool augment, EvaluationResult result)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model}: accuracy {result.Accuracy * 100:F2}%, loss {result.Loss:F4} on {result.Samples} {(augment ? "augmented " : "")}test images"));

        double[] perClass = result.PerClassAccuracy();
        int classes = perClass.Length;
        var table = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn(new TableColumn("true").RightAligned());
        for (int predicted = 0; predicted < classes; predicted++)
            table.AddColumn(new TableColumn(predicted.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("accuracy").RightAligned());
        for (int actual = 0; actual < classes; actual++)
        {
            var cells = new List<string> { actual.ToString(CultureInfo.InvariantCulture) };
            for (int predicted = 0; predicted < classes; predicted++)
            {
                string count = result.Confusion[actual, predicted].ToString(CultureInfo.InvariantCulture);
                cells.Add(predicted == actual ? $"[bold]{count}[/]" : result.Confusion[actual, predicted] == 0 ? $"[grey]{count}[/]" : count);
            }
            cells.Add(double.IsNaN(perClass[actual]) ? "-" : (perClass[actual] * 100).ToString("F2", CultureInfo.InvariantCulture) + "%");
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
    }
}
