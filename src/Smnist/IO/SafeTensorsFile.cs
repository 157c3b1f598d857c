using System.Diagnostics.CodeAnalysis;

namespace Smnist.IO;

/// <summary>The validated content of one safetensors file: tensors in data-buffer order and the string metadata.</summary>
internal sealed class SafeTensorsFile
{
    private readonly Dictionary<string, SafeTensor> _byName;

    internal SafeTensorsFile(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was read from, for messages.</summary>
    public string Path { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/>; a <see cref="SmnistException"/> naming the file if absent.</summary>
    public SafeTensor Get(string name) =>
        TryGet(name, out SafeTensor? tensor)
            ? tensor
            : throw new SmnistException($"{Path}: tensor '{name}' is missing");

    public bool TryGet(string name, [NotNullWhen(true)] out SafeTensor? tensor) => _byName.TryGetValue(name, out tensor);
}
