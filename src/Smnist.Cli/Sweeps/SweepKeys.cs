using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Smnist.Cli.Sweeps;

/// <summary>
/// The keys of a sweep file's settings: config.json's, each turned into the <c>smnist train</c> option that sets it
/// (<c>batch_size</c> → <c>--batch-size</c>). The one place that knows which config.json keys a sweep may set; a
/// test checks it against the config.json a run writes.
/// </summary>
internal static class SweepKeys
{
    public const string Seed = "seed";
    public const string Threads = "threads";
    public const string Dataset = "dataset";
    public const string DataDir = "data_dir";

    private enum Kind { Number, Text, Path, Switch }

    private static readonly Dictionary<string, Kind> Settable = new()
    {
        ["recipe"] = Kind.Text,
        ["epochs"] = Kind.Number,
        ["batch_size"] = Kind.Number,
        ["hidden"] = Kind.Number,
        ["layers"] = Kind.Number,
        ["lr"] = Kind.Number,
        ["schedule"] = Kind.Text,
        ["forget_bias"] = Kind.Number,
        ["input_bias"] = Kind.Number,
        ["gate_init"] = Kind.Text,
        ["refine_gate"] = Kind.Switch,
        ["clip"] = Kind.Number,
        ["weight_decay"] = Kind.Number,
        [Seed] = Kind.Number,
        [Threads] = Kind.Number,
        ["augment"] = Kind.Switch,
        ["augment_test"] = Kind.Switch,
        ["shuffle"] = Kind.Switch,
        ["max_steps"] = Kind.Number,
        ["limit_train"] = Kind.Number,
        ["limit_test"] = Kind.Number,
        ["sequence"] = Kind.Text,
        [Dataset] = Kind.Text,
        [DataDir] = Kind.Path,
        ["init"] = Kind.Path,
        ["validation"] = Kind.Number,
        ["patience"] = Kind.Number,
    };

    /// <summary>config.json's keys that record what a run was (its folder, its data's sizes), not what it is asked to be.</summary>
    public static readonly IReadOnlySet<string> Recorded = new HashSet<string> { "out", "train_samples", "test_samples", "steps_per_epoch", "total_steps" };

    /// <summary>Every key a sweep may set, in config.json's order.</summary>
    public static IEnumerable<string> All => Settable.Keys;

    /// <summary>Why <paramref name="key"/> cannot be set by a sweep, or null when it can.</summary>
    public static string? Problem(string key)
    {
        if (Settable.ContainsKey(key))
            return null;
        if (key == "out")
            return "'out' is the sweep's own: each run's folder is made under it";
        if (Recorded.Contains(key))
            return $"'{key}' is recorded by smnist train, not set";
        return $"unknown key '{key}' (the keys are config.json's: {string.Join(", ", Settable.Keys)})";
    }

    /// <summary>Why <paramref name="value"/> has the wrong JSON type for <paramref name="key"/>, or null.</summary>
    public static string? TypeProblem(string key, JsonNode? value)
    {
        JsonValueKind kind = value?.GetValueKind() ?? JsonValueKind.Null;
        return Settable[key] switch
        {
            Kind.Number when kind != JsonValueKind.Number => $"'{key}' must be a number, not {Describe(value)}",
            Kind.Text or Kind.Path when kind != JsonValueKind.String => $"'{key}' must be a string, not {Describe(value)}",
            Kind.Switch when kind is not (JsonValueKind.True or JsonValueKind.False) => $"'{key}' must be true or false, not {Describe(value)}",
            _ => null,
        };

        // null is refused too: train has no option that unsets a recipe's value (a recipe without it does).
        static string Describe(JsonNode? value) => value is null ? "null" : value.ToJsonString();
    }

    /// <summary>Whether the key holds a path, which a sweep file gives relative to its own folder.</summary>
    public static bool IsPath(string key) => Settable[key] == Kind.Path;

    /// <summary>The <c>smnist train</c> arguments that set <paramref name="key"/> to <paramref name="value"/>.</summary>
    public static IEnumerable<string> TrainArguments(string key, JsonValue value)
    {
        string option = "--" + key.Replace('_', '-');
        if (Settable[key] != Kind.Switch)
            return [option, value.TryGetValue(out string? text) ? text : value.ToJsonString()];
        bool on = value.GetValue<bool>();
        // Every recipe shuffles and tests on clean images, so "shuffle": true and "augment_test": false are train's defaults, with no flag.
        return key switch
        {
            "augment" => [on ? "--augment" : "--no-augment"],
            "augment_test" => on ? ["--augment-test"] : [],
            "shuffle" => on ? [] : ["--no-shuffle"],
            "refine_gate" => [on ? "--refine-gate" : "--no-refine-gate"],
            _ => throw new ArgumentException($"no flag for {key}", nameof(key)),
        };
    }

    /// <summary>
    /// Whether a run's config.json value <paramref name="recorded"/> is what the sweep asks for: names case-insensitively,
    /// numbers by value (the recorded 0.002 is the asked 2e-3), and threads 0 (one per processor) as any count.
    /// </summary>
    public static bool Matches(string key, JsonValue asked, JsonNode? recorded)
    {
        if (recorded is not JsonValue value)
            return false;
        switch (Settable[key])
        {
            case Kind.Switch:
                return value.GetValueKind() is JsonValueKind.True or JsonValueKind.False && value.GetValue<bool>() == asked.GetValue<bool>();
            case Kind.Text:
            case Kind.Path:
                return value.TryGetValue(out string? text) && string.Equals(text, asked.GetValue<string>(), Settable[key] == Kind.Text ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
            default:
                if (value.GetValueKind() != JsonValueKind.Number)
                    return false;
                if (key == Threads && asked.ToJsonString() == "0")
                    return true;
                string a = asked.ToJsonString(), r = value.ToJsonString();
                const NumberStyles Style = NumberStyles.Float;
                if (decimal.TryParse(a, Style, CultureInfo.InvariantCulture, out decimal exactA) && decimal.TryParse(r, Style, CultureInfo.InvariantCulture, out decimal exactR) && exactA == exactR)
                    return true;
                // Floating-point options are recorded as the float the run used.
                return (float)double.Parse(a, CultureInfo.InvariantCulture) == (float)double.Parse(r, CultureInfo.InvariantCulture);
        }
    }
}
