using System.Buffers.Text;
using System.Text.Json;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Cli.Serve;

/// <summary>
/// A <see cref="ReadingTrace"/> as JSON, in the form both <c>POST /api/read</c> and <c>smnist explain --json</c>
/// give: <c>digit</c>, <c>probabilities</c> (K), <c>decided_at</c> (a timestep t in 1..T), <c>input</c> (784
/// values in 0..1, row-major, as read) and <c>steps</c> (T entries, each with its <c>probabilities</c>); with
/// gates, also <c>forget</c>, <c>input_gate</c>, <c>output</c> and <c>cell</c> of the last layer, each T rows of
/// n units, rounded to <see cref="GateDecimals"/> decimals.
/// </summary>
internal static class TraceJson
{
    /// <summary>
    /// Gates and cell states are written to 4 decimals: finer than any colour the page or the figure can show, and
    /// it halves the largest answer (a pixel model's 784 × 4 × n values).
    /// </summary>
    public const int GateDecimals = 4;

    /// <summary>Writes the trace's properties into the object the writer has open.</summary>
    public static void WriteProperties(Utf8JsonWriter writer, ReadingTrace trace, bool gates)
    {
        writer.WriteNumber("digit", trace.Digit);
        WriteArray(writer, "probabilities", trace.Probabilities);
        writer.WriteNumber("decided_at", trace.DecidedAt);
        WriteArray(writer, "input", trace.Input);
        writer.WriteStartArray("steps");
        for (int t = 1; t <= trace.Steps; t++)
        {
            writer.WriteStartObject();
            WriteArray(writer, "probabilities", trace.StepProbabilities(t));
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (!gates)
            return;
        int last = trace.Config.Layers - 1;
        // The fractions of memory kept and written: a UR-LSTM's g and 1 − g, with its refine gate beside them.
        WriteSteps(writer, "forget", trace, t => trace.EffectiveForgetGate(last, t));
        WriteSteps(writer, "input_gate", trace, t => trace.EffectiveInputGate(last, t));
        if (trace.Config.RefineGate)
            WriteSteps(writer, "refine", trace, t => trace.Gate(last, ParameterLayout.Refine, t));
        WriteSteps(writer, "output", trace, t => trace.Gate(last, ParameterLayout.Output, t));
        writer.WriteStartArray("cell");
        for (int t = 1; t <= trace.Steps; t++)
            WriteRounded(writer, trace.Cell(last, t));
        writer.WriteEndArray();
    }

    private static void WriteSteps(Utf8JsonWriter writer, string name, ReadingTrace trace, Func<int, ReadOnlySpan<float>> values)
    {
        writer.WriteStartArray(name);
        for (int t = 1; t <= trace.Steps; t++)
            WriteRounded(writer, values(t));
        writer.WriteEndArray();
    }

    private static void WriteArray(Utf8JsonWriter writer, string name, ReadOnlySpan<float> values)
    {
        writer.WritePropertyName(name);
        WriteValues(writer, values);
    }

    private static void WriteValues(Utf8JsonWriter writer, ReadOnlySpan<float> values)
    {
        writer.WriteStartArray();
        foreach (float value in values)
            writer.WriteNumberValue(value);
        writer.WriteEndArray();
    }

    /// <summary>
    /// Writes each value rounded to <see cref="GateDecimals"/> decimals, as WriteNumberValue would write the rounded
    /// float, in a tenth of its time. Below <see cref="FixedPointLimit"/>, the rounded float is the one nearest to
    /// k / 10⁴ for an integer k, and no other number of at most four decimals lies within half its spacing, so its
    /// shortest round-trip text is k / 10⁴ in decimals: that is written straight from k.
    /// </summary>
    internal static void WriteRounded(Utf8JsonWriter writer, ReadOnlySpan<float> values)
    {
        Span<byte> text = stackalloc byte[16];
        writer.WriteStartArray();
        foreach (float value in values)
        {
            float rounded = MathF.Round(value, GateDecimals) + 0f; // + 0 turns -0 into 0
            if (MathF.Abs(rounded) < FixedPointLimit)
                writer.WriteRawValue(text[..WriteDecimals((int)MathF.Round(rounded * 1e4f), text)], skipInputValidation: true);
            else
                writer.WriteNumberValue(rounded);
        }
        writer.WriteEndArray();
    }

    /// <summary>Where a float's spacing is still under a fifth of 10⁻⁴, so the text of k / 10⁴ is its shortest.</summary>
    private const float FixedPointLimit = 256f;

    /// <summary>Writes k / 10⁴ as JSON ("-0.0123", "0.5", "2") into <paramref name="text"/>; returns its length.</summary>
    private static int WriteDecimals(int k, Span<byte> text)
    {
        int length = 0;
        if (k < 0)
        {
            text[length++] = (byte)'-';
            k = -k;
        }
        (int whole, int fraction) = Math.DivRem(k, 10_000);
        Utf8Formatter.TryFormat(whole, text[length..], out int written);
        length += written;
        if (fraction == 0)
            return length;
        text[length++] = (byte)'.';
        for (int unit = 1_000; fraction != 0; unit /= 10)
        {
            (int digit, fraction) = Math.DivRem(fraction, unit);
            text[length++] = (byte)('0' + digit);
        }
        return length;
    }
}
