using System.CommandLine;
using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Cli;

/// <summary>Loads a data set for a command, reporting acquisition on stderr so that stdout stays clean (for --json).</summary>
internal static class DataLoading
{
    /// <summary>Each data set under the library's name for it.</summary>
    public static readonly IReadOnlyDictionary<string, DatasetKind> Kinds =
        Enum.GetValues<DatasetKind>().ToDictionary(DatasetKindNames.NameOf);

    public static Option<DatasetKind?> DatasetOption() =>
        CliOptions.Choice("--dataset", "Data set: MNIST digits or Fashion-MNIST [default: mnist]", Kinds);

    public static Option<string?> DataDirOption() =>
        CliOptions.Path("--data-dir", "DIR",
            $"Folder holding the four IDX files (raw or .gz) [default: ${DataAcquisition.DataDirectoryVariable}, else the cache, filled by download]");

    public static (ImageSet Train, ImageSet Test) Load(CliContext context, DatasetKind kind, string? dataDir) =>
        DataAcquisition.Load(kind, dataDir, new Reporter(context.Error));

    /// <summary>The test set, checked to hold image <paramref name="index"/> (predict's and explain's --index).</summary>
    public static ImageSet TestSetHolding(CliContext context, int index, DatasetKind? kind, string? dataDir)
    {
        ImageSet test = Load(context, kind ?? DatasetKind.Mnist, dataDir).Test;
        if (index >= test.Count)
            throw new SmnistException($"--index {index} is past the end of the test set ({test.Count} images, 0 to {test.Count - 1})");
        return test;
    }

    /// <summary>Adds the rule that a command reads either image files or one test image by --index, not both.</summary>
    public static void RequireImagesOrIndex(Command command, Argument<string[]> images, Option<int?> index) =>
        command.Validators.Add(result =>
        {
            bool hasImages = result.GetValue(images) is { Length: > 0 };
            bool hasIndex = result.GetResult(index) is { Implicit: false };
            if (hasImages == hasIndex)
                result.AddError("give either image files or --index K (not both)");
        });

    private sealed class Reporter(TextWriter error) : IProgress<AcquisitionProgress>
    {
        public void Report(AcquisitionProgress value)
        {
            string? line = value.Stage switch
            {
                AcquisitionStage.Trying => $"data: fetching {value.FileName} from {value.Source}",
                AcquisitionStage.Verified => $"data: {value.FileName} verified",
                AcquisitionStage.Failed => $"data: {value.FileName} from {value.Source} failed: {value.Detail}",
                _ => null,
            };
            if (line is not null)
                error.WriteLine(line);
        }
    }
}
