using System.Globalization;

namespace Smnist.Data;

/// <summary>The file formats <see cref="SequenceFile"/> reads, told apart by the file's extension.</summary>
public enum SequenceFileFormat
{
    /// <summary>JSON Lines (<c>.jsonl</c>): one object per line, <c>{"label": 3, "steps": [[x_1, …, x_d], …]}</c>, or <c>"labels"</c> with one label per step.</summary>
    JsonLines,

    /// <summary>The sktime/aeon <c>.ts</c> format of the UCR/UEA time-series classification archives.</summary>
    Ts,
}

/// <summary>
/// Labelled sequences of any length read from a file (<see cref="SequenceFileFormat"/>): a source that trains and
/// evaluates on them. Every sequence has 1..<see cref="MaxSteps"/> steps of the same number of values,
/// <see cref="Features"/> (at most <see cref="MaxFeatures"/>), all finite. The labels are one class per sequence, one per
/// step (<see cref="LabelsPerStep"/>, <see cref="SequenceLabels.None"/> for a step without one), or none at all
/// (a file to predict on). A file that breaks any of this is refused with a <see cref="SmnistException"/> whose one-line
/// message names the file, the line and the problem.
/// </summary>
/// <remarks>
/// The file is read as a stream, one line at a time; the sequences are kept as 4-byte floats, one array each. A
/// value takes at least two bytes of text (a digit and a separator), so the values held take at most twice the
/// file's size, and while reading, one line's bytes and one sequence's values are held besides.
/// </remarks>
public sealed class SequenceFile : ISequenceSource
{
    /// <summary>The most steps one sequence may have.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>The most values one step may have: the most inputs a model reads.</summary>
    public const int MaxFeatures = 1 << 16;

    /// <summary>The most classes: the most a model predicts.</summary>
    public const int MaxClasses = 1 << 16;

    private readonly float[][] _sequences;  // each (length, d), step after step
    private readonly int[] _labels;         // (N) classes; empty without per-sequence labels
    private readonly int[][] _stepLabels;   // each (length) classes or SequenceLabels.None; empty without per-step labels
    private readonly int[] _lines;          // (N) the line each sequence is on

    private readonly int _highestLabel;     // -1 without labels

    private SequenceFile(string path, SequenceFileFormat format, SequenceBuilder read, int classes)
    {
        Path = path;
        Format = format;
        _sequences = [.. read.Sequences];
        _labels = [.. read.Labels];
        _stepLabels = [.. read.StepLabels];
        _lines = [.. read.Lines];
        _highestLabel = read.HighestLabel;
        Features = read.Features;
        Steps = read.LongestLength;
        Classes = classes;
        ClassNames = read.ClassNames;
    }

    private SequenceFile(SequenceFile file, int classes)
    {
        Path = file.Path;
        Format = file.Format;
        _sequences = file._sequences;
        _labels = file._labels;
        _stepLabels = file._stepLabels;
        _lines = file._lines;
        _highestLabel = file._highestLabel;
        Features = file.Features;
        Steps = file.Steps;
        Classes = classes;
        ClassNames = file.ClassNames;
    }

    /// <summary>The file the sequences were read from, as given.</summary>
    public string Path { get; }

    /// <summary>The file's format.</summary>
    public SequenceFileFormat Format { get; }

    /// <inheritdoc/>
    public int Count => _sequences.Length;

    /// <summary>The length of the longest sequence, T_max; see <see cref="LengthOf"/>.</summary>
    public int Steps { get; }

    /// <inheritdoc/>
    public int Features { get; }

    /// <summary>Number of classes: as asked when reading, else the highest label + 1 (at least 2) or the <c>.ts</c> file's class names; 0 for a file without labels.</summary>
    public int Classes { get; }

    /// <summary>Whether the file labels its sequences (per sequence or per step); a file without labels can only be predicted on.</summary>
    public bool HasLabels => _labels.Length > 0 || _stepLabels.Length > 0;

    /// <inheritdoc/>
    public bool LabelsPerStep => _stepLabels.Length > 0;

    /// <summary>For a <c>.ts</c> file, its <c>@classLabel</c> names: class k is ClassNames[k]. Null for JSON Lines, whose labels are classes already.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <inheritdoc/>
    public int LengthOf(int example) => _sequences[example].Length / Features;

    /// <summary>Example <paramref name="example"/>'s values: (length, d), step after step.</summary>
    public ReadOnlySpan<float> Sequence(int example) => _sequences[example];

    /// <summary>The class of example <paramref name="example"/>, for a file with one label per sequence.</summary>
    /// <exception cref="InvalidOperationException">The file labels each step, or nothing.</exception>
    public int Label(int example) => _labels.Length > 0
        ? _labels[example]
        : throw new InvalidOperationException(LabelsPerStep ? "the file labels each step; see StepLabels" : "the file has no labels");

    /// <summary>The class of every step of example <paramref name="example"/> (<see cref="SequenceLabels.None"/> for a step without one), for a file labelled per step.</summary>
    /// <exception cref="InvalidOperationException">The file labels whole sequences, or nothing.</exception>
    public ReadOnlySpan<int> StepLabels(int example) => _stepLabels.Length > 0
        ? _stepLabels[example]
        : throw new InvalidOperationException(HasLabels ? "the file labels whole sequences; see Label" : "the file has no labels");

    /// <summary>
    /// The same sequences (shared, not copied) with <paramref name="classes"/> classes: for a training and a test file
    /// read apart, whose highest labels may differ, to agree on one number.
    /// </summary>
    /// <exception cref="SmnistException">A label of the file, or a .ts class name, is not below <paramref name="classes"/>.</exception>
    public SequenceFile WithClasses(int classes)
    {
        if (classes < 2 || classes > MaxClasses)
            throw new SmnistException($"{Path}: {classes} classes asked for; there must be 2 to {MaxClasses}");
        int needed = Math.Max(_highestLabel + 1, ClassNames?.Count ?? 0);
        if (needed > classes)
            throw new SmnistException($"{Path}: its labels need {needed} classes, more than {classes}");
        return new SequenceFile(this, classes);
    }

    /// <summary>The line of the file example <paramref name="example"/> is on (from 1).</summary>
    public int LineOf(int example) => _lines[example];

    /// <summary>
    /// Reads the sequence file <paramref name="path"/>, <c>.jsonl</c> or <c>.ts</c>. <paramref name="classes"/>, when
    /// given, is the number of classes (every label must be below it); otherwise it is the highest label + 1, at least 2
    /// (for a <c>.ts</c> file, the number of its class names).
    /// </summary>
    /// <exception cref="SmnistException">The file is missing, of another type, or breaks its format or a limit; the message names the line.</exception>
    public static SequenceFile Read(string path, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        SequenceFileFormat format = FormatOf(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SmnistException($"{path}: no such file", e);
        }
        using (stream)
            return Read(stream, path, format, classes);
    }

    /// <summary>Reads sequences in <paramref name="format"/> from <paramref name="stream"/>, named <paramref name="name"/> in messages; see <see cref="Read(string, int?)"/>.</summary>
    /// <exception cref="SmnistException">The text breaks its format or a limit; the message names the line.</exception>
    public static SequenceFile Read(Stream stream, string name, SequenceFileFormat format, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (classes is int asked && (asked < 2 || asked > MaxClasses))
            throw new SmnistException($"{name}: {asked} classes asked for; there must be 2 to {MaxClasses}");
        var lines = new ByteLines(stream, name);
        var read = new SequenceBuilder(name, lines, classes);
        if (format == SequenceFileFormat.JsonLines)
            JsonLinesReader.Read(lines, read);
        else
            TsFileReader.Read(lines, read);
        if (read.Sequences.Count == 0)
            throw new SmnistException($"{name}: holds no sequences");
        return new SequenceFile(name, format, read, read.ResolveClasses());
    }

    /// <summary>The format of <paramref name="path"/> by its extension: <c>.jsonl</c> or <c>.ts</c> (any case).</summary>
    /// <exception cref="SmnistException">Another extension.</exception>
    public static SequenceFileFormat FormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".jsonl" => SequenceFileFormat.JsonLines,
            ".ts" => SequenceFileFormat.Ts,
            _ => throw new SmnistException($"{path}: not a sequence file; expected a .jsonl (JSON Lines) or .ts (sktime/aeon) file"),
        };
    }

    /// <summary>
    /// Writes the examples per the ragged contract of <see cref="ISequenceSource.Fill"/>: steps past an example's length
    /// are 0 and, with per-step labels, <see cref="SequenceLabels.None"/>.
    /// </summary>
    /// <exception cref="SmnistException">The file has no labels.</exception>
    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        if (!HasLabels)
            throw new SmnistException($"{Path}: has no labels; training and evaluation need a \"label\" or \"labels\" on every line (or a .ts @classLabel)");
        int batch = examples.Length, features = Features, steps = Steps;
        inputs.Slice(0, steps * batch * features).Clear();
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> sequence = _sequences[examples[b]]; // (length, d)
            int length = sequence.Length / features;
            for (int t = 0; t < length; t++)
                sequence.Slice(t * features, features).CopyTo(inputs.Slice((t * batch + b) * features, features));
        }
        if (!LabelsPerStep)
        {
            for (int b = 0; b < batch; b++)
                labels[b] = _labels[examples[b]];
            return;
        }
        labels.Slice(0, steps * batch).Fill(SequenceLabels.None);
        for (int b = 0; b < batch; b++)
        {
            int[] stepLabels = _stepLabels[examples[b]];
            for (int t = 0; t < stepLabels.Length; t++)
                labels[t * batch + b] = stepLabels[t];
        }
    }

    /// <summary>"file: line N: problem", the one-line form of every refusal.</summary>
    internal static SmnistException LineError(string name, int line, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{name}: line {line}: {problem}"));
}
