using System.Text.Json.Nodes;
using Smnist.Data;
using Smnist.IO;
using Smnist.Training;

namespace Smnist.Cli;

/// <summary>
/// The sequence files a command reads with --data (and train's --test), checked against each other and against a
/// model, each refusal one line naming the file.
/// </summary>
internal sealed record SequenceFiles(SequenceFile Train, SequenceFile Test)
{
    public const int MaxClasses = SequenceFile.MaxClasses;

    /// <summary>
    /// train's --data and --test: both labelled alike, of the same width, and on one number of classes:
    /// <paramref name="classes"/>, else the larger of the two files'.
    /// </summary>
    public static SequenceFiles Read(string trainPath, string testPath, int? classes)
    {
        SequenceFile train = Labelled(SequenceFile.Read(trainPath, classes), "training");
        SequenceFile test = Labelled(SequenceFile.Read(testPath, classes), "training");
        if (test.Features != train.Features)
            throw new SmnistException($"{test.Path}: its steps have {test.Features} values, those of {train.Path} have {train.Features}");
        if (test.LabelsPerStep != train.LabelsPerStep)
            throw new SmnistException($"{test.Path}: {Labelling(test)}, but {train.Path} {Labelling(train)}; train and test must be labelled alike");
        if (train.ClassNames is { } trainNames && test.ClassNames is { } testNames
            && !trainNames.SequenceEqual(testNames, StringComparer.OrdinalIgnoreCase))
        {
            throw new SmnistException($"{test.Path}: its @classLabel names ({string.Join(' ', testNames)}) differ from those of {train.Path} ({string.Join(' ', trainNames)}); " +
                "class k must be the same class in both files");
        }
        int agreed = Math.Max(train.Classes, test.Classes);
        return new SequenceFiles(train.Classes == agreed ? train : train.WithClasses(agreed), test.Classes == agreed ? test : test.WithClasses(agreed));
    }

    /// <summary>The files a run on sequence files recorded in its config.json, read as they were; null for a run on images.</summary>
    public static SequenceFiles? Resumed(string directory)
    {
        string path = Path.Combine(directory, RunDirectory.ConfigFileName);
        if (!File.Exists(path))
            return null;
        JsonObject config = RunDirectory.ReadConfig(directory);
        if (Text(config, path, RunDirectory.DataFileKey) is not string train)
            return null;
        string test = Text(config, path, RunDirectory.TestFileKey)
            ?? throw new SmnistException($"{path}: '{RunDirectory.DataFileKey}' is given without '{RunDirectory.TestFileKey}'");
        int? classes = config[RunDirectory.ClassesKey] switch
        {
            null => null,
            JsonValue value when value.TryGetValue(out int recorded) => recorded,
            JsonNode other => throw new SmnistException($"{path}: '{RunDirectory.ClassesKey}' is not a whole number ({other.ToJsonString()})"),
        };
        return Read(train, test, classes);
    }

    private static string? Text(JsonObject config, string path, string key) => config[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonNode other => throw new SmnistException($"{path}: '{key}' is not a string ({other.ToJsonString()})"),
    };

    /// <summary>eval's and predict's --data, for a model trained on sequence files: of the model's width and (when <paramref name="needLabels"/>) labelled.</summary>
    public static SequenceFile ForModel(string path, LoadedModel loaded, string modelName, bool needLabels)
    {
        if (loaded.Sequence.ReadsImages)
            throw new SmnistException($"{modelName} reads images ({loaded.Sequence.Name} view); --data needs a model trained on sequence files (smnist train --data)");
        SequenceFile file = SequenceFile.Read(path, loaded.Model.Config.Classes);
        if (file.Features != loaded.Model.Config.InputSize)
            throw new SmnistException($"{path}: its steps have {file.Features} values, the model {modelName} reads {loaded.Model.Config.InputSize}");
        return needLabels ? Labelled(file, "evaluation") : file;
    }

    private static SequenceFile Labelled(SequenceFile file, string use) =>
        file.HasLabels
            ? file
            : throw new SmnistException($"{file.Path}: has no labels; {use} needs a \"label\" or \"labels\" on every line (for a .ts file, '@classLabel true' and a class on every case)");

    private static string Labelling(SequenceFile file) => file.LabelsPerStep ? "labels every step" : "labels whole sequences";
}
