using System.CommandLine;
using Smnist.IO;

namespace Smnist.Cli;

/// <summary>A model to read with, and the name to show for it: a file path, or the name of a shipped model.</summary>
internal sealed record ModelChoice(LoadedModel Loaded, string Name);

/// <summary>
/// The trained models shipped in the repository's models/ folder, embedded in this assembly so that they travel
/// with the command however it is installed and are never looked up in the current folder. <c>explain</c>,
/// <c>serve</c> and <c>predict</c> read <see cref="DefaultName"/> when no --model is given.
/// </summary>
internal static class ShippedModels
{
    public const string DefaultName = "mnist-rows";

    public static Option<string?> ModelOption() =>
        CliOptions.Path("--model", "FILE", $"A model.safetensors written by smnist train [default: the shipped {DefaultName} model]");

    /// <summary>The model at <paramref name="path"/>, or the shipped default when it is null.</summary>
    public static ModelChoice Load(string? path)
    {
        if (path is not null)
            return new ModelChoice(ModelCheckpoint.Load(path), path);
        string resource = $"models/{DefaultName}.safetensors";
        using Stream stream = typeof(ShippedModels).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"this build of smnist lacks its embedded {resource}");
        return new ModelChoice(ModelCheckpoint.Load(DefaultName, stream), DefaultName);
    }
}
