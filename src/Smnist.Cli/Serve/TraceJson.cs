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

    private static void WriteRounded(Utf8JsonWriter writer, ReadOnlySpan<float> values)
    {
        writer.WriteStartArray();
        foreach (float value in values)
            writer.WriteNumberValue(MathF.Round(value, GateDecimals) + 0f); // + 0 turns -0 into 0
        writer.WriteEndArray();
    }
}
