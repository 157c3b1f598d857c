using System.Text.Json;
using System.Text.Json.Nodes;

namespace Smnist.Cli.Sweeps;

/// <summary>
/// One run of a sweep: a <c>smnist train</c> of one configuration and seed into its own folder.
/// </summary>
/// <param name="Index">Its number, from 0: what <c>sweep task --index</c> and a Slurm array task take.</param>
/// <param name="Configuration">The configuration's name, the keys it varies ("hidden=64"); the sweep's name when nothing varies.</param>
/// <param name="Seed">The seed from the file's <c>seeds</c>, as written there; null without <c>seeds</c>.</param>
/// <param name="Directory">Its folder (full path) under the sweep's <c>out</c>, named after what varies, so that adding a seed or a value keeps the other runs' folders.</param>
/// <param name="Settings">Every key it sets, base first, in config.json's form (relative paths resolved).</param>
internal sealed record SweepRun(int Index, string Configuration, string? Seed, string Directory, IReadOnlyList<KeyValuePair<string, JsonValue>> Settings)
{
    /// <summary>The folder's name.</summary>
    public string Folder => Path.GetFileName(Directory);

    /// <summary>Whether the sweep file fixes the run's thread count (else the command that starts it decides).</summary>
    public bool SetsThreads => Settings.Any(s => s.Key == SweepKeys.Threads);

    /// <summary>The <c>smnist train</c> arguments that set <see cref="Settings"/>, without <c>--out</c>.</summary>
    public IEnumerable<string> TrainArguments => Settings.SelectMany(s => SweepKeys.TrainArguments(s.Key, s.Value));
}

/// <summary>
/// A sweep file: base options, a grid (cross product) or an explicit list of configurations, and seeds, expanded into
/// numbered runs — grid keys in file order, the first outermost, seeds innermost. Everything is checked when it is
/// loaded, so a bad key or value is refused in one line before any run starts.
/// </summary>
internal sealed class Sweep
{
    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly string[] TopLevelKeys = ["name", "out", "base", "grid", "runs", "seeds"];

    private Sweep(string file, string name, string outDirectory, IReadOnlyList<string> varied, IReadOnlyList<SweepRun> runs)
    {
        File = file;
        Name = name;
        OutDirectory = outDirectory;
        VariedKeys = varied;
        Runs = runs;
    }

    /// <summary>The sweep file, full path.</summary>
    public string File { get; }

    /// <summary>Its <c>name</c>, else the file's name without extension.</summary>
    public string Name { get; }

    /// <summary>Where the runs' folders go (full path); a relative <c>out</c> is taken from the sweep file's folder.</summary>
    public string OutDirectory { get; }

    /// <summary>The keys the configurations vary, seed excluded, in file order.</summary>
    public IReadOnlyList<string> VariedKeys { get; }

    /// <summary>Every run, by index.</summary>
    public IReadOnlyList<SweepRun> Runs { get; }

    /// <summary>The configurations' names, in run order.</summary>
    public IReadOnlyList<string> Configurations => Runs.Select(r => r.Configuration).Distinct().ToList();

    /// <summary>Reads, checks and expands the sweep file at <paramref name="path"/>; any defect is a one-line <see cref="SmnistException"/> naming the file.</summary>
    public static Sweep Load(string path)
    {
        string file = Path.GetFullPath(path);
        string text;
        try
        {
            text = System.IO.File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SmnistException($"{path}: cannot read the sweep file ({e.Message})", e);
        }
        JsonObject root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: Lenient) as JsonObject ?? throw new SmnistException($"{path}: a sweep file is a JSON object");
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new SmnistException($"{path}: not valid JSON ({SmnistException.OneLine(e.Message)})", e);
        }
        return new Reader(path, file).Read(root);
    }

    /// <summary>Checks and expands one parsed sweep file; <c>where</c> in every message is the path as the user gave it.</summary>
    private sealed class Reader(string where, string file)
    {
        private readonly string _folder = Path.GetDirectoryName(file)!;

        public Sweep Read(JsonObject root)
        {
            foreach (var (key, _) in root)
            {
                if (!TopLevelKeys.Contains(key))
                    throw Error($"unknown key '{key}' (a sweep file has {string.Join(", ", TopLevelKeys)})");
            }
            string name = OptionalText(root, "name") ?? Path.GetFileNameWithoutExtension(file);
            string outDirectory = Path.GetFullPath(OptionalText(root, "out") ?? throw Error("'out' is missing: the folder the runs go in"), _folder);

            List<KeyValuePair<string, JsonValue>> baseSettings = Settings(root["base"], "base");
            List<JsonValue>? seeds = Seeds(root["seeds"]);
            if (seeds is not null && baseSettings.Any(s => s.Key == SweepKeys.Seed))
                throw Error("'seed' is in base and 'seeds' is given: use one");

            if (root["grid"] is not null && root["runs"] is not null)
                throw Error("'grid' and 'runs' are both given: a sweep has one or the other");
            (List<List<KeyValuePair<string, JsonValue>>> configurations, List<string> varied) = root["runs"] is { } runs
                ? Listed(runs, seeds is not null)
                : Grid(root["grid"], baseSettings, seeds is not null);

            var expanded = new List<SweepRun>();
            var folders = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (List<KeyValuePair<string, JsonValue>> configuration in configurations)
            {
                string label = configuration.Count == 0 ? name : string.Join(",", configuration.Select(s => $"{s.Key}={Text(s.Value)}"));
                foreach (JsonValue? seed in seeds is null ? [null] : seeds.Cast<JsonValue?>())
                {
                    List<KeyValuePair<string, JsonValue>> settings =
                        [.. baseSettings.Where(b => configuration.All(c => c.Key != b.Key)), .. configuration];
                    if (seed is not null)
                        settings.Add(new(SweepKeys.Seed, seed));
                    string folder = FolderName(configuration, seed);
                    if (folders.TryGetValue(folder, out int other))
                        throw Error($"runs {other} and {expanded.Count} would share the folder '{folder}'; make the values differ in letters or digits");
                    folders[folder] = expanded.Count;
                    CheckCommandLine(settings, label);
                    expanded.Add(new SweepRun(expanded.Count, label, seed is null ? null : Text(seed), Path.Combine(outDirectory, folder), settings));
                }
            }
            return new Sweep(file, name, outDirectory, varied, expanded);
        }

        /// <summary>The cross product of the grid's values, its first key outermost.</summary>
        private (List<List<KeyValuePair<string, JsonValue>>>, List<string>) Grid(JsonNode? node, List<KeyValuePair<string, JsonValue>> baseSettings, bool seeds)
        {
            List<List<KeyValuePair<string, JsonValue>>> product = [[]];
            if (node is null)
                return (product, []);
            if (node is not JsonObject grid)
                throw Error("'grid' must be an object of key: [values]");
            foreach (var (key, valuesNode) in grid)
            {
                string at = $"grid.{key}";
                if (valuesNode is not JsonArray { Count: > 0 } values)
                    throw Error($"{at} must be a non-empty array of values");
                if (baseSettings.Any(s => s.Key == key))
                    throw Error($"'{key}' is in both base and grid: give it in one");
                if (seeds && key == SweepKeys.Seed)
                    throw Error("'seed' is in grid and 'seeds' is given: use one");
                var checkedValues = new List<JsonValue>();
                for (int i = 0; i < values.Count; i++)
                {
                    JsonValue value = Value(key, values[i], $"{at}[{i}]");
                    if (checkedValues.Any(v => JsonNode.DeepEquals(v, value)))
                        throw Error($"{at}[{i}] repeats the value {value.ToJsonString()}");
                    checkedValues.Add(value);
                }
                product = [.. product.SelectMany(prefix => checkedValues.Select(v => (List<KeyValuePair<string, JsonValue>>)[.. prefix, new(key, v)]))];
            }
            return (product, [.. grid.Select(g => g.Key)]);
        }

        /// <summary>Configurations listed one by one, each over the base settings (a key it gives replaces base's).</summary>
        private (List<List<KeyValuePair<string, JsonValue>>>, List<string>) Listed(JsonNode node, bool seeds)
        {
            if (node is not JsonArray runs || runs.Count == 0)
                throw Error("'runs' must be a non-empty array of objects");
            var configurations = new List<List<KeyValuePair<string, JsonValue>>>();
            for (int i = 0; i < runs.Count; i++)
            {
                List<KeyValuePair<string, JsonValue>> configuration = Settings(runs[i], $"runs[{i}]", objectRequired: true);
                if (seeds && configuration.Any(s => s.Key == SweepKeys.Seed))
                    throw Error($"runs[{i}] sets 'seed' and 'seeds' is given: use one");
                int same = configurations.FindIndex(c => c.Count == configuration.Count && c.Zip(configuration).All(p => p.First.Key == p.Second.Key && JsonNode.DeepEquals(p.First.Value, p.Second.Value)));
                if (same >= 0)
                    throw Error($"runs[{i}] repeats runs[{same}]");
                configurations.Add(configuration);
            }
            return (configurations, [.. configurations.SelectMany(c => c.Select(s => s.Key)).Distinct()]);
        }

        private List<JsonValue>? Seeds(JsonNode? node)
        {
            if (node is null)
                return null;
            if (node is not JsonArray seeds || seeds.Count == 0)
                throw Error("'seeds' must be a non-empty array of integers");
            var values = new List<JsonValue>();
            for (int i = 0; i < seeds.Count; i++)
            {
                JsonValue seed = Value(SweepKeys.Seed, seeds[i], $"seeds[{i}]");
                if (values.Any(v => v.GetValue<ulong>() == seed.GetValue<ulong>()))
                    throw Error($"seeds[{i}] repeats the seed {Text(seed)}");
                values.Add(seed);
            }
            return values;
        }

        private List<KeyValuePair<string, JsonValue>> Settings(JsonNode? node, string at, bool objectRequired = false)
        {
            if (node is null && !objectRequired)
                return [];
            if (node is not JsonObject settings)
                throw Error($"'{at}' must be an object of config.json keys");
            return [.. settings.Select(s => new KeyValuePair<string, JsonValue>(s.Key, Value(s.Key, s.Value, $"{at}.{s.Key}")))];
        }

        /// <summary>One value: a known key, the right JSON type, and a value <c>smnist train</c> accepts; a relative path is resolved.</summary>
        private JsonValue Value(string key, JsonNode? node, string at)
        {
            if (SweepKeys.Problem(key) is string problem)
                throw Error($"{at}: {problem}");
            if (SweepKeys.TypeProblem(key, node) is string typeProblem)
                throw Error($"{at}: {typeProblem}");
            var value = (JsonValue)node!;
            if (SweepKeys.IsPath(key))
                value = JsonValue.Create(Path.GetFullPath(value.GetValue<string>(), _folder));
            if (Cli.TrainParseErrors(SweepKeys.TrainArguments(key, value)).FirstOrDefault() is string error)
                throw Error($"{at}: {error}");
            return value;
        }

        /// <summary>Every run's command line together, for the rules that involve several options.</summary>
        private void CheckCommandLine(List<KeyValuePair<string, JsonValue>> settings, string label)
        {
            if (Cli.TrainParseErrors(settings.SelectMany(s => SweepKeys.TrainArguments(s.Key, s.Value))).FirstOrDefault() is string error)
                throw Error($"configuration {label}: {error}");
        }

        private string? OptionalText(JsonObject root, string key) => root[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue(out string? text) && !string.IsNullOrWhiteSpace(text) => text,
            _ => throw Error($"'{key}' must be a non-empty string"),
        };

        private SmnistException Error(string problem) => new($"{where}: {problem}");
    }

    /// <summary>A value as the file wrote it: strings bare, numbers and booleans in JSON.</summary>
    private static string Text(JsonValue value) => value.TryGetValue(out string? text) ? text : value.ToJsonString();

    /// <summary>"hidden=64,seed=1": what varies, in letters, digits and <c>.+-_=,</c> (a path's file name only); "run" when nothing does.</summary>
    private static string FolderName(List<KeyValuePair<string, JsonValue>> configuration, JsonValue? seed)
    {
        IEnumerable<string> parts = configuration.Select(s => $"{s.Key}={Safe(SweepKeys.IsPath(s.Key) ? Path.GetFileName(Text(s.Value)) : Text(s.Value))}");
        if (seed is not null)
            parts = parts.Append($"{SweepKeys.Seed}={Text(seed)}");
        string folder = string.Join(",", parts);
        return folder.Length == 0 ? "run" : folder;

        static string Safe(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-' or '_' ? c : '_')]);
    }
}
