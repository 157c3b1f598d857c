using System.Globalization;
using System.Text;

namespace Smnist.Data;

/// <summary>
/// The sktime/aeon <c>.ts</c> format of the UCR/UEA classification archives: comment lines (<c>#</c>, or <c>%</c>),
/// then <c>@</c> header lines up to <c>@data</c>, then one case per line, its dimensions separated by ':', each a
/// comma-separated series, and the class label last. The header is checked against the data: its dimensions, its
/// lengths (<c>@equalLength</c>, <c>@seriesLength</c>) and its class names (<c>@classLabel true a b c</c>, mapped to
/// classes 0, 1, 2 in that order). Missing values ('?'), timestamps and regression targets are refused.
/// </summary>
internal static class TsFileReader
{
    public static void Read(ByteLines lines, SequenceBuilder read)
    {
        Header header = ReadHeader(lines, read);
        var channels = new List<float>(); // the line's (d, length) values, dimension after dimension
        int firstLength = 0, firstLine = 0;
        while (lines.Next())
        {
            ReadOnlySpan<byte> line = lines.Line.Trim(" \t"u8);
            if (line.IsEmpty)
                continue;
            (int features, int length, int label) = ReadCase(line, header, read, channels);
            if (header.EqualLength == true)
            {
                if (header.SeriesLength is int declared && length != declared)
                    throw read.Error($"the series has {length} values, the header's @seriesLength says {declared}");
                if (firstLength == 0)
                    (firstLength, firstLine) = (length, lines.Number);
                else if (length != firstLength)
                    throw read.Error($"the series has {length} values, line {firstLine}'s {firstLength}, but the header says @equalLength true");
            }
            if (header.Univariate == true && features > 1)
                throw read.Error($"the case has {features} dimensions, but the header says @univariate true");
            if (header.Dimensions is int dimensions && features != dimensions)
                throw read.Error($"the case has {features} dimensions, the header's @dimensions says {dimensions}");

            var values = new float[length * features]; // (length, d): the file's (d, length), transposed
            for (int f = 0; f < features; f++)
            {
                for (int t = 0; t < length; t++)
                    values[t * features + f] = channels[f * length + t];
            }
            read.Add(values, features, header.ClassLabel ? Labelling.PerSequence : Labelling.None, label);
        }
    }

    /// <summary>The header's values; null where the file does not say.</summary>
    private sealed class Header
    {
        public bool? Univariate { get; set; }

        public bool? EqualLength { get; set; }

        public int? Dimensions { get; set; }

        public int? SeriesLength { get; set; }

        public bool ClassLabel { get; set; }

        public List<string> ClassNames { get; } = [];
    }

    /// <summary>Reads up to and including <c>@data</c>, checking each line and then the header as a whole.</summary>
    private static Header ReadHeader(ByteLines lines, SequenceBuilder read)
    {
        var header = new Header();
        bool? classLabel = null;
        while (lines.Next())
        {
            string line = Encoding.UTF8.GetString(lines.Line).Trim();
            if (line.Length == 0 || line[0] is '#' or '%')
                continue;
            if (line[0] != '@')
                throw read.Error("expected a @ header line or a # comment before @data");
            string[] tokens = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            string key = tokens[0].ToLowerInvariant();
            switch (key)
            {
                case "@data":
                    if (tokens.Length > 1)
                        throw read.Error("@data takes no value; the data starts on the next line");
                    if (classLabel is null)
                        throw read.Error("no @classLabel line before @data; say '@classLabel true' and the class names, or '@classLabel false'");
                    header.ClassLabel = classLabel.Value;
                    return header;
                case "@timestamps":
                    if (Flag(tokens, read))
                        throw read.Error("@timeStamps true: timestamped .ts files are not read; write the values alone");
                    break;
                case "@targetlabel":
                    if (Flag(tokens, read))
                        throw read.Error("@targetLabel true: a regression file; smnist reads classification files (@classLabel)");
                    break;
                case "@missing":
                    Flag(tokens, read);
                    break;
                case "@univariate":
                    header.Univariate = Flag(tokens, read);
                    break;
                case "@equallength":
                    header.EqualLength = Flag(tokens, read);
                    break;
                case "@dimension" or "@dimensions":
                    header.Dimensions = Count(tokens, read);
                    break;
                case "@serieslength":
                    header.SeriesLength = Count(tokens, read);
                    break;
                case "@classlabel":
                    classLabel = ClassLabels(tokens, header.ClassNames, read);
                    break;
                default:
                    break; // @problemName and identifiers of later versions of the format say nothing the data needs
            }
            if (header.Univariate == true && header.Dimensions > 1)
                throw read.Error($"@univariate true, but @dimensions {header.Dimensions}");
        }
        throw read.Error("the file ends before its @data line");
    }

    /// <summary>"@classLabel true a b c" (names into <paramref name="names"/>) or "@classLabel false".</summary>
    private static bool ClassLabels(string[] tokens, List<string> names, SequenceBuilder read)
    {
        bool labelled = tokens.Length > 1 && Flag(tokens[..2], read);
        if (!labelled)
        {
            if (tokens.Length != 2)
                throw read.Error("@classLabel takes true and the class names, or false");
            return false;
        }
        if (tokens.Length < 3)
            throw read.Error("@classLabel true names no classes; list them after it, such as '@classLabel true a b c'");
        names.Clear();
        foreach (string name in tokens[2..])
        {
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw read.Error($"@classLabel names the class '{name}' twice");
            names.Add(name);
        }
        if (names.Count > (read.Classes ?? SequenceFile.MaxClasses))
            throw read.Error($"@classLabel names {names.Count} classes, more than the {read.Classes ?? SequenceFile.MaxClasses} asked for");
        read.ClassNames = names;
        return true;
    }

    private static bool Flag(string[] tokens, SequenceBuilder read)
    {
        if (tokens.Length == 2 && (tokens[1].Equals("true", StringComparison.OrdinalIgnoreCase) || tokens[1].Equals("false", StringComparison.OrdinalIgnoreCase)))
            return tokens[1].Equals("true", StringComparison.OrdinalIgnoreCase);
        throw read.Error($"{tokens[0]} takes true or false");
    }

    private static int Count(string[] tokens, SequenceBuilder read)
    {
        if (tokens.Length == 2 && int.TryParse(tokens[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1)
            return count;
        throw read.Error($"{tokens[0]} takes a whole number, at least 1");
    }

    /// <summary>One case: its dimensions into <paramref name="channels"/> as (d, length); returns d, the length and the class.</summary>
    private static (int Features, int Length, int Label) ReadCase(ReadOnlySpan<byte> line, Header header, SequenceBuilder read, List<float> channels)
    {
        channels.Clear();
        int label = 0;
        if (header.ClassLabel)
        {
            int colon = line.LastIndexOf((byte)':');
            if (colon < 0)
                throw read.Error("no ':' before a class label; the header says @classLabel true");
            label = ClassOf(line[(colon + 1)..].Trim(" \t"u8), header.ClassNames, read);
            line = line[..colon];
        }
        int features = 0, length = 0;
        while (true)
        {
            int colon = line.IndexOf((byte)':');
            ReadOnlySpan<byte> dimension = colon < 0 ? line : line[..colon];
            features++;
            read.RequireFeatureLimit(features);
            int count = ReadSeries(dimension, features, read, channels);
            if (features == 1)
                length = count;
            else if (count != length)
                throw read.Error($"dimension {features} has {count} values, dimension 1 has {length}");
            if (colon < 0)
                return (features, length, label);
            line = line[(colon + 1)..];
        }
    }

    /// <summary>Appends the comma-separated values of one dimension; returns how many.</summary>
    private static int ReadSeries(ReadOnlySpan<byte> series, int dimension, SequenceBuilder read, List<float> channels)
    {
        if (series.Trim(" \t"u8).IsEmpty)
            throw read.Error($"dimension {dimension} is empty; every sequence needs at least one step");
        int count = 0;
        while (true)
        {
            int comma = series.IndexOf((byte)',');
            ReadOnlySpan<byte> text = (comma < 0 ? series : series[..comma]).Trim(" \t"u8);
            read.RequireRoomForStep(count);
            count++;
            if (text.SequenceEqual("?"u8))
                throw read.Error($"value {count} of dimension {dimension} is missing ('?'); fill in or drop missing values first");
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                throw read.Error($"value {count} of dimension {dimension}, '{Shown(text)}', is not a number");
            if (!float.IsFinite(value))
                throw read.Error($"value {count} of dimension {dimension}, '{Shown(text)}', is not a finite 32-bit number");
            channels.Add(value);
            if (comma < 0)
                return count;
            series = series[(comma + 1)..];
        }
    }

    private static int ClassOf(ReadOnlySpan<byte> text, List<string> names, SequenceBuilder read)
    {
        string name = Encoding.UTF8.GetString(text);
        for (int k = 0; k < names.Count; k++)
        {
            if (string.Equals(names[k], name, StringComparison.OrdinalIgnoreCase))
                return k;
        }
        string listed = names.Count <= 10 ? string.Join(", ", names) : string.Join(", ", names.Take(10)) + ", …";
        throw read.Error($"class label '{Shown(text)}' is not one of the @classLabel names ({listed})");
    }

    /// <summary>A field's text for a message, cut short if long.</summary>
    private static string Shown(ReadOnlySpan<byte> utf8)
    {
        string text = Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 40)]);
        return utf8.Length > 40 ? text + "…" : text;
    }
}
