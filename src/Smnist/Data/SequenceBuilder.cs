namespace Smnist.Data;

/// <summary>How a sequence file labels its sequences; every line of one file must agree.</summary>
internal enum Labelling
{
    Unknown,
    None,
    PerSequence,
    PerStep,
}

/// <summary>
/// What the format readers (<see cref="JsonLinesReader"/>, <see cref="TsFileReader"/>) have read so far, with the
/// checks that hold for both formats: the same width on every line, the same kind of labels, labels that are
/// classes. Its errors name the file and the reader's current line.
/// </summary>
internal sealed class SequenceBuilder(string name, ByteLines lines, int? classes)
{
    private Labelling _labelling = Labelling.Unknown;
    private int _labellingLine;
    private int _featuresLine;

    public List<float[]> Sequences { get; } = [];

    public List<int> Labels { get; } = [];

    public List<int[]> StepLabels { get; } = [];

    public List<int> Lines { get; } = [];

    /// <summary>Values per step, d, set by the first sequence (0 before).</summary>
    public int Features { get; private set; }

    public int LongestLength { get; private set; }

    /// <summary>The highest class among the labels; -1 before any.</summary>
    public int HighestLabel { get; private set; } = -1;

    /// <summary>The number of classes asked for, if any.</summary>
    public int? Classes => classes;

    /// <summary>A <c>.ts</c> file's class names, which fix the number of classes; null for JSON Lines.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>The refusal of the current line: "file: line N: problem", noting a last line the file ends inside.</summary>
    public SmnistException Error(string problem) =>
        SequenceFile.LineError(name, lines.Number, lines.EndedWithNewline ? problem : $"{problem} (the file ends inside this line: is it truncated?)");

    /// <summary>Checks that a sequence of <paramref name="length"/> steps may still grow by one step.</summary>
    public void RequireRoomForStep(int length)
    {
        if (length >= SequenceFile.MaxSteps)
            throw Error($"the sequence is longer than {SequenceFile.MaxSteps} steps, the limit");
    }

    /// <summary>Checks a step's width against the limit.</summary>
    public void RequireFeatureLimit(int features)
    {
        if (features > SequenceFile.MaxFeatures)
            throw Error($"a step has more than {SequenceFile.MaxFeatures} values, the limit");
    }

    /// <summary>
    /// Adds the current line's sequence: <paramref name="values"/> (length, d), and its <paramref name="label"/>
    /// (PerSequence), <paramref name="stepLabels"/> (PerStep, one per step) or neither (None).
    /// </summary>
    public void Add(float[] values, int features, Labelling labelling, int label = 0, int[]? stepLabels = null)
    {
        int length = values.Length / features;
        if (length == 0)
            throw Error("the sequence is empty; every sequence needs at least one step");
        if (Features == 0)
        {
            Features = features;
            _featuresLine = lines.Number;
        }
        else if (features != Features)
        {
            throw Error($"its steps have {features} values each, those of line {_featuresLine} have {Features}");
        }
        if (_labelling == Labelling.Unknown)
        {
            _labelling = labelling;
            _labellingLine = lines.Number;
        }
        else if (labelling != _labelling)
        {
            throw Error($"it has {Describe(labelling)}, line {_labellingLine} has {Describe(_labelling)}; every line must be labelled alike");
        }
        switch (labelling)
        {
            case Labelling.PerSequence:
                RequireClass(label, "the label");
                Labels.Add(label);
                break;
            case Labelling.PerStep:
                for (int t = 0; t < stepLabels!.Length; t++)
                {
                    if (stepLabels[t] != SequenceLabels.None)
                        RequireClass(stepLabels[t], $"the label of step {t + 1}");
                }
                StepLabels.Add(stepLabels);
                break;
        }
        Sequences.Add(values);
        Lines.Add(lines.Number);
        LongestLength = Math.Max(LongestLength, length);
    }

    /// <summary>The number of classes: as asked, else the class names' count or the highest label + 1, at least 2; 0 without labels.</summary>
    public int ResolveClasses()
    {
        if (classes is int asked)
            return asked;
        if (_labelling == Labelling.None)
            return 0;
        return Math.Max(2, ClassNames?.Count ?? HighestLabel + 1);
    }

    private void RequireClass(int label, string what)
    {
        int limit = classes ?? SequenceFile.MaxClasses;
        if (label < 0 || label >= limit)
            throw Error($"{what}, {label}, is not a class in 0..{limit - 1}");
        HighestLabel = Math.Max(HighestLabel, label);
    }

    private static string Describe(Labelling labelling) => labelling switch
    {
        Labelling.PerSequence => "one label for the sequence",
        Labelling.PerStep => "a label per step",
        _ => "no label",
    };
}
