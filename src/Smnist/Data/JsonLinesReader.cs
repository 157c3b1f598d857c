using System.Text;
using System.Text.Json;

namespace Smnist.Data;

/// <summary>
/// JSON Lines sequences: one object per line, <c>{"label": 3, "steps": [[x_1, …, x_d], …]}</c>, or <c>"labels"</c>
/// with one label per step (−1 for a step without one), or neither. Other keys are ignored; blank lines are skipped.
/// </summary>
internal static class JsonLinesReader
{
    private const string Example = "{\"label\": 0, \"steps\": [[0.5, 1], [0.25, 2]]}";

    public static void Read(ByteLines lines, SequenceBuilder read)
    {
        var values = new List<float>();     // the line's (length, d) values
        var stepLabels = new List<int>();   // the line's per-step labels
        while (lines.Next())
        {
            ReadOnlySpan<byte> line = lines.Line;
            if (line.Trim(" \t"u8).IsEmpty)
                continue;
            try
            {
                ReadLine(line, read, values, stepLabels);
            }
            catch (JsonException e)
            {
                throw read.Error(Describe(e, line));
            }
        }
    }

    private static void ReadLine(ReadOnlySpan<byte> line, SequenceBuilder read, List<float> values, List<int> stepLabels)
    {
        values.Clear();
        stepLabels.Clear();
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw read.Error($"not a JSON object; each line is one sequence, such as {Example}");
        bool hasSteps = false, hasLabel = false, hasLabels = false;
        int features = 0, length = 0, label = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("steps"u8))
            {
                Once(ref hasSteps, "steps", read);
                (features, length) = ReadSteps(ref reader, read, values);
            }
            else if (reader.ValueTextEquals("label"u8))
            {
                Once(ref hasLabel, "label", read);
                reader.Read();
                label = ReadLabel(ref reader, read, "the label");
            }
            else if (reader.ValueTextEquals("labels"u8))
            {
                Once(ref hasLabels, "labels", read);
                ReadStepLabels(ref reader, read, stepLabels);
            }
            else
            {
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            throw read.Error("more than one JSON value on the line; each line is one object");
        if (!hasSteps)
            throw read.Error($"no \"steps\"; each line is one sequence, such as {Example}");
        if (hasLabel && hasLabels)
            throw read.Error("both \"label\" and \"labels\"; give one label for the sequence or one per step");
        if (hasLabels && stepLabels.Count != length)
            throw read.Error($"{stepLabels.Count} labels for {length} steps; \"labels\" has one per step");
        Labelling labelling = hasLabel ? Labelling.PerSequence : hasLabels ? Labelling.PerStep : Labelling.None;
        read.Add([.. values], features, labelling, label, hasLabels ? [.. stepLabels] : null);
    }

    /// <summary>Reads the steps array after its property name; returns (d, length).</summary>
    private static (int Features, int Length) ReadSteps(ref Utf8JsonReader reader, SequenceBuilder read, List<float> values)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
            throw read.Error("\"steps\" is not an array of steps, each an array of numbers");
        int features = 0, length = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            int step = length + 1;
            if (reader.TokenType != JsonTokenType.StartArray)
                throw read.Error($"step {step} is not an array of numbers");
            read.RequireRoomForStep(length);
            int count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number)
                    throw read.Error($"value {count + 1} of step {step} is not a number");
                if (!reader.TryGetDouble(out double value) || !float.IsFinite((float)value))
                    throw read.Error($"value {count + 1} of step {step}, {Text(reader.ValueSpan)}, is not a finite 32-bit number");
                read.RequireFeatureLimit(++count);
                values.Add((float)value);
            }
            if (count == 0)
                throw read.Error($"step {step} has no values");
            if (features == 0)
                features = count;
            else if (count != features)
                throw read.Error($"step {step} has {count} values, the steps before it {features}");
            length++;
        }
        if (length == 0)
            throw read.Error("the sequence is empty; every sequence needs at least one step");
        return (features, length);
    }

    private static void ReadStepLabels(ref Utf8JsonReader reader, SequenceBuilder read, List<int> stepLabels)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
            throw read.Error("\"labels\" is not an array of integers, one per step");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            read.RequireRoomForStep(stepLabels.Count);
            stepLabels.Add(ReadLabel(ref reader, read, $"the label of step {stepLabels.Count + 1}"));
        }
    }

    /// <summary>The integer at the reader; its range is the builder's to check.</summary>
    private static int ReadLabel(ref Utf8JsonReader reader, SequenceBuilder read, string what)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int label))
            return label;
        string shown = reader.TokenType switch
        {
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => Text(reader.ValueSpan),
            JsonTokenType.String => $"\"{Text(reader.ValueSpan)}\"",
            _ => "an array or object",
        };
        throw read.Error($"{what}, {shown}, is not an integer class");
    }

    private static void Once(ref bool seen, string key, SequenceBuilder read)
    {
        if (seen)
            throw read.Error($"\"{key}\" appears twice");
        seen = true;
    }

    /// <summary>What is wrong where the JSON broke: NaN or infinity (which JSON lacks), a line cut short, or the parser's word.</summary>
    private static string Describe(JsonException e, ReadOnlySpan<byte> line)
    {
        int at = (int)Math.Clamp(e.BytePositionInLine ?? line.Length, 0, line.Length);
        if (at > 0 && line[at - 1] == (byte)'-')
            at--; // the parser stops after the sign of -Infinity
        ReadOnlySpan<byte> rest = line[at..];
        foreach (string word in (string[])["NaN", "Infinity", "-Infinity"])
        {
            if (rest.StartsWith(Encoding.ASCII.GetBytes(word)))
                return $"{word} at byte {at + 1} is not a finite number";
        }
        if (rest.Trim(" \t"u8).IsEmpty)
            return "the line ends before its JSON object does";
        string reason = e.Message;
        int position = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        reason = (position >= 0 ? reason[..position] : reason).TrimEnd('.', ' ');
        return $"not valid JSON at byte {at + 1}: {reason}";
    }

    /// <summary>A token's text for a message, cut short if long.</summary>
    private static string Text(ReadOnlySpan<byte> utf8)
    {
        string text = Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 40)]);
        return utf8.Length > 40 ? text + "…" : text;
    }
}
