using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Smnist.Data;
using Smnist.Data.Strokes;
using Smnist.Nn;
using Smnist.Training;

namespace Smnist.Cli.Serve;

/// <summary>The strokes model the live pad is read with, its gate weights packed once and shared by every connection.</summary>
internal sealed class LiveModel
{
    public LiveModel(ModelChoice choice)
    {
        if (choice.Loaded.Sequence.View != SequenceView.Strokes)
            throw new ArgumentException("the live pad reads pen strokes", nameof(choice));
        Choice = choice;
        Packed = new PackedGateWeights(choice.Loaded.Model.Config);
        Packed.Pack(choice.Loaded.Model);
    }

    public ModelChoice Choice { get; }

    public PackedGateWeights Packed { get; }

    /// <summary>The most steps one connection's digit may have: the strokes view's T_max.</summary>
    public int MaxSteps => Choice.Loaded.Sequence.Steps;

    public int Features => Choice.Loaded.Sequence.Features;
}

/// <summary>
/// One live connection's reading: a <see cref="StreamingReader"/> that carries the LSTM state from frame to frame,
/// so an update costs the steps it brings and no more. A frame in is <c>{"steps": [[dx, dy, end_of_stroke,
/// end_of_digit], ...]}</c> (the <see cref="StrokeEncoding"/> of the points drawn since the last frame) or
/// <c>{"reset": true}</c>; the answer is <c>{"steps_read": N, "digit": d, "probabilities": [[K values] per new
/// step]}</c>, or <c>{"error": "..."}</c> with the state unchanged: a frame is checked whole before any step of it is read.
/// </summary>
internal sealed class LiveReading
{
    /// <summary>A move (dx, dy) is at most the grid's width: no move on the 28×28 grid is longer.</summary>
    public const float MaxMove = ImageSet.Width;

    private readonly LiveModel _model;
    private readonly StreamingReader _reader;
    private readonly float[] _steps;        // (T_max, d) the frame's steps, parsed before any is read
    private readonly Utf8JsonWriter _writer = new(Stream.Null);

    public LiveReading(LiveModel model)
    {
        _model = model;
        _reader = new StreamingReader(model.Choice.Loaded.Model, model.Packed);
        _steps = new float[model.MaxSteps * model.Features];
    }

    /// <summary>Steps read since the connection opened or was last reset.</summary>
    public int StepsRead => _reader.StepsRead;

    private const string FrameForm = "a frame is {\"steps\": [[dx, dy, end_of_stroke, end_of_digit], ...]} or {\"reset\": true}";

    /// <summary>Reads one text frame and writes the answer frame into <paramref name="answer"/>.</summary>
    public void Answer(ReadOnlySpan<byte> frame, IBufferWriter<byte> answer)
    {
        _writer.Reset(answer);
        _writer.WriteStartObject();
        string? problem;
        try
        {
            problem = Read(frame);
        }
        catch (JsonException e)
        {
            problem = $"the frame is not valid JSON (byte {(e.BytePositionInLine ?? 0) + 1}); {FrameForm}";
        }
        if (problem is not null)
            _writer.WriteString("error", problem);
        else
            _writer.WriteNumber("steps_read", _reader.StepsRead);
        _writer.WriteEndObject();
        _writer.Flush();
    }

    /// <summary>An answer that is only an error, for frames that are never parsed (binary, too large).</summary>
    public static void Error(IBufferWriter<byte> answer, string message)
    {
        using var writer = new Utf8JsonWriter(answer);
        writer.WriteStartObject();
        writer.WriteString("error", message);
        writer.WriteEndObject();
    }

    /// <summary>Parses and reads the frame, writing the answer's properties; the problem with it, or null.</summary>
    private string? Read(ReadOnlySpan<byte> frame)
    {
        var json = new Utf8JsonReader(frame, new JsonReaderOptions { MaxDepth = 3 });
        if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            return FrameForm;
        if (!json.Read() || json.TokenType != JsonTokenType.PropertyName)
            return FrameForm;
        int count = 0;
        bool reset = json.ValueTextEquals("reset"u8);
        string? problem;
        if (reset)
            problem = json.Read() && json.TokenType == JsonTokenType.True ? null : "\"reset\" must be true";
        else if (json.ValueTextEquals("steps"u8))
            problem = ParseSteps(ref json, out count);
        else
            return $"unknown property \"{Shortened(json.GetString()!)}\"; {FrameForm}";
        if (problem is not null)
            return problem;
        if (!json.Read() || json.TokenType != JsonTokenType.EndObject)
            return $"a frame has one property; {FrameForm}";
        if (json.Read())
            return $"the frame has more after its object; {FrameForm}";
        if (reset)
            _reader.Reset();
        else
            ReadSteps(count);
        return null;
    }

    private static string Shortened(string name) => name.Length <= 40 ? name : name[..40] + "…";

    /// <summary>The "steps" array into <see cref="_steps"/>, checked value by value; the problem, or null.</summary>
    private string? ParseSteps(ref Utf8JsonReader json, out int count)
    {
        count = 0;
        int features = _model.Features, room = _model.MaxSteps - _reader.StepsRead;
        if (!json.Read() || json.TokenType != JsonTokenType.StartArray)
            return $"\"steps\" must be an array of steps, each [dx, dy, end_of_stroke, end_of_digit]";
        while (json.Read() && json.TokenType != JsonTokenType.EndArray)
        {
            if (count == room)
            {
                return $"the digit would pass {_model.MaxSteps} steps, the most the model reads ({_reader.StepsRead} read so far); "
                    + "clear the pad (send {\"reset\": true}) to start again";
            }
            if (json.TokenType != JsonTokenType.StartArray)
                return $"step {count} must be an array [dx, dy, end_of_stroke, end_of_digit]";
            int k = 0;
            while (json.Read() && json.TokenType != JsonTokenType.EndArray)
            {
                if (k == features)
                    return $"step {count} has more than {features} values [dx, dy, end_of_stroke, end_of_digit]";
                if (json.TokenType != JsonTokenType.Number || !json.TryGetDouble(out double value) || !double.IsFinite(value))
                    return $"value {k} of step {count} is not a finite number";
                if (k < 2 ? Math.Abs(value) > MaxMove : value is not (0 or 1))
                {
                    string text = value.ToString(CultureInfo.InvariantCulture);
                    return k < 2
                        ? $"{(k == 0 ? "dx" : "dy")} of step {count} is {text}; a move on the 28×28 grid is at most {MaxMove} pixels"
                        : $"{(k == 2 ? "end_of_stroke" : "end_of_digit")} of step {count} is {text}; it must be 0 or 1";
                }
                _steps[count * features + k++] = (float)value;
            }
            if (k != features)
                return $"step {count} has {k} values; a step has {features}: [dx, dy, end_of_stroke, end_of_digit]";
            count++;
        }
        return count == 0 ? "\"steps\" is empty; send at least one step" : null;
    }

    /// <summary>Reads the parsed steps and writes steps_read, digit and each new step's probabilities.</summary>
    private void ReadSteps(int count)
    {
        int features = _model.Features, digit = 0;
        _writer.WriteStartArray("probabilities");
        for (int step = 0; step < count; step++)
        {
            ReadOnlySpan<float> probabilities = _reader.Step(_steps.AsSpan(step * features, features));
            _writer.WriteStartArray();
            digit = 0;
            for (int k = 0; k < probabilities.Length; k++)
            {
                _writer.WriteNumberValue(probabilities[k]);
                if (probabilities[k] > probabilities[digit])
                    digit = k;
            }
            _writer.WriteEndArray();
        }
        _writer.WriteEndArray();
        _writer.WriteNumber("digit", digit);
    }
}
