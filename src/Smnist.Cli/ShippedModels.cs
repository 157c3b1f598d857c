using System.CommandLine;
using Smnist.IO;

namespace Smnist.Cli;

/// <summary>A model to read with, and the name to show for it: a file path, or the name of a shipped model.</summary>
internal sealed record ModelChoice(LoadedModel Loaded, string Name);

/// <summary>
/// The trained models shipped in the repository's models/ folder, embedded in this assembly so that they travel
/// with the command however it is installed and are never looked up in the current folder. Every --model takes a
/// shipped model's name as well as a file; <c>explain</c>, <c>serve</c> and <c>predict</c> read <see cref="DefaultName"/>
/// when no --model is given.
/// </summary>
internal static class ShippedModels
{
    public const string DefaultName = "mnist-rows";

    /// <summary>The shipped strokes model: serve's live pad reads with it unless --model is a strokes model itself.</summary>
    public const string StrokesName = "mnist-strokes";

    private const string ResourcePrefix = "models/", ResourceExtension = ".safetensors";

    /// <summary>The embedded models' names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ShippedModels).Assembly.GetManifestResourceNames()
        .Where(resource => resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) && resource.EndsWith(ResourceExtension, StringComparison.Ordinal))
        .Select(resource => resource[ResourcePrefix.Length..^ResourceExtension.Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>--model for the commands that read with the shipped default when it is not given.</summary>
    public static Option<string?> ModelOption() =>
        CliOptions.Path("--model", "FILE|NAME", $"A model.safetensors written by smnist train, or a shipped model: {string.Join(", ", Names)} [default: {DefaultName}]");

    /// <summary>--model for the commands that need one named.</summary>
    public static Option<string?> RequiredModelOption()
    {
        var option = CliOptions.Path("--model", "FILE|NAME",
            $"A model.safetensors written by smnist train (or a PyTorch state_dict saved under the same names), or a shipped model: {string.Join(", ", Names)}");
        option.Required = true;
        return option;
    }

    /// <summary>
    /// The model in the file <paramref name="pathOrName"/>; the shipped model of that name when no such file exists;
    /// the shipped default when it is null.
    /// </summary>
    public static ModelChoice Load(string? pathOrName)
    {
        if (pathOrName is null || (!File.Exists(pathOrName) && Names.Contains(pathOrName, StringComparer.Ordinal)))
            return Embedded(pathOrName ?? DefaultName);
        // A bare word that is neither a file nor a shipped name was most likely meant as a name.
        if (!Path.Exists(pathOrName) && Path.GetFileName(pathOrName) == pathOrName && !Path.HasExtension(pathOrName))
            throw new SmnistException($"{pathOrName}: file not found, and no shipped model has that name ({string.Join(", ", Names)})");
        return new ModelChoice(ModelCheckpoint.Load(pathOrName), pathOrName);
    }

    private static ModelChoice Embedded(string name)
    {
        string resource = ResourcePrefix + name + ResourceExtension;
        using Stream stream = typeof(ShippedModels).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"this build of smnist lacks its embedded {resource}");
        return new ModelChoice(ModelCheckpoint.Load(name, stream), name);
    }
}
