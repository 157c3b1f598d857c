using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Smnist.IO;

/// <summary>One named F32 tensor: row-major data whose length is the product of the shape (1 for a 0-d tensor).</summary>
internal sealed record SafeTensor(string Name, int[] Shape, float[] Data);

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a UTF-8 JSON header, then the
/// raw little-endian data buffer), F32 tensors only. Reading follows the reference implementation's
/// validation (huggingface/safetensors, <c>Metadata::validate</c>): tensors must tile the data buffer exactly,
/// without gaps or overlaps, and every tensor's byte span must match its dtype and shape.
/// </summary>
internal static class SafeTensors
{
    /// <summary>The reference implementation's bound on the header; larger headers are refused before allocation.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    // Sizes of every dtype the format defines, so a file using one we do not support is rejected by name.
    private static readonly Dictionary<string, int> KnownDtypeSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["F8_E8M0"] = 1, ["F4"] = 1,
        ["F6_E2M3"] = 1, ["F6_E3M2"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2, ["I32"] = 4,
        ["U32"] = 4, ["F32"] = 4, ["F64"] = 8, ["I64"] = 8, ["U64"] = 8, ["C64"] = 8,
    };

    /// <summary>Writes the tensors, in the given order, and optional string metadata; atomically.</summary>
    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        byte[] header = BuildHeader(tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (SafeTensor tensor in tensors)
                WriteLittleEndian(stream, tensor.Data);
        });
    }

    /// <summary>Reads and validates a whole file; any violation is a <see cref="SmnistException"/> naming the file.</summary>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Opening a FIFO blocks until something writes to it, and a device or socket holds no model: only files are read.
        FileKind kind = FileKinds.Of(path, followLinks: true);
        if (kind is not (FileKind.Regular or FileKind.Absent or FileKind.Directory))
            throw new SmnistException($"{path}: is {FileKinds.Describe(kind)}, not a regular file");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(path, stream);
        }
        catch (FileNotFoundException)
        {
            throw new SmnistException($"{path}: file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new SmnistException($"{path}: file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SmnistException(Directory.Exists(path) ? $"{path}: is a folder, not a file" : $"{path}: cannot be read ({e.Message})", e);
        }
    }

    /// <summary>
    /// Reads and validates a file from a seekable <paramref name="stream"/> (such as an embedded resource);
    /// <paramref name="name"/> stands for the path in messages.
    /// </summary>
    public static SafeTensorsFile Read(string name, Stream stream)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Invalid(name, $"file is {fileLength} bytes, too short for a safetensors file (at least 8)");

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw Invalid(name, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        if ((long)headerLength > fileLength - 8)
            throw Invalid(name, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");

        byte[] header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;
        var (entries, metadata) = ParseHeader(name, header, dataLength);

        var tensors = new List<SafeTensor>(entries.Count);
        foreach (HeaderEntry entry in entries)
        {
            var data = new float[checked((int)(entry.ByteLength / sizeof(float)))];
            stream.Position = 8 + (long)headerLength + entry.Begin;
            stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            if (!BitConverter.IsLittleEndian)
                ReverseEndianness(data);
            tensors.Add(new SafeTensor(entry.Name, entry.Shape, data));
        }
        return new SafeTensorsFile(name, tensors, metadata);
    }

    private sealed record HeaderEntry(string Name, int[] Shape, long Begin, long End)
    {
        public long ByteLength => End - Begin;
    }

    private static (List<HeaderEntry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header, long dataLength)
    {
        if (!Utf8.IsValid(header))
            throw Invalid(path, "header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"header is not valid JSON ({FirstLine(e.Message)})");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Invalid(path, $"header must be a JSON object, found {Describe(root.ValueKind)}");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<HeaderEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata)
                        throw Invalid(path, $"{MetadataKey} appears twice in the header");
                    sawMetadata = true;
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                if (!names.Add(property.Name))
                    throw Invalid(path, $"tensor '{property.Name}' appears twice in the header");
                entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }

            // As the reference reader does: in offset order, each tensor must start where the previous one
            // ended, and the last must end at the end of the file.
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long covered = 0;
            HeaderEntry? previous = null;
            foreach (HeaderEntry entry in entries)
            {
                if (entry.Begin < covered)
                    throw Invalid(path, $"tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
                if (entry.Begin > covered)
                    throw Invalid(path, $"data buffer has a gap: bytes {covered}..{entry.Begin} before tensor '{entry.Name}' belong to no tensor");
                covered = entry.End;
                previous = entry;
            }
            if (covered != dataLength)
                throw Invalid(path, $"data buffer is {dataLength} bytes but the tensors cover {covered} (trailing bytes)");
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"{MetadataKey} must be an object of strings, found {Describe(value.ValueKind)}");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"{MetadataKey} value '{item.Name}' must be a string, found {Describe(item.Value.ValueKind)}");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(path, $"{MetadataKey} key '{item.Name}' appears twice");
        }
    }

    private static HeaderEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"{where} must be an object, found {Describe(value.ValueKind)}");

        JsonElement dtypeElement = Required(path, where, value, "dtype", JsonValueKind.String);
        string dtype = dtypeElement.GetString()!;
        if (!KnownDtypeSizes.ContainsKey(dtype))
            throw Invalid(path, $"{where} has unknown dtype '{dtype}'");
        if (dtype != "F32")
            throw Invalid(path, $"{where}: dtype {dtype} is not supported (F32 only)");

        JsonElement shapeElement = Required(path, where, value, "shape", JsonValueKind.Array);
        var shape = new int[shapeElement.GetArrayLength()];
        long elements = 1;
        int axis = 0;
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long size) || size < 0)
                throw Invalid(path, $"{where} shape has an invalid dimension {dimension.GetRawText()} (must be a non-negative integer)");
            if (size > Array.MaxLength)
                throw Invalid(path, $"{where} shape dimension {size} is too large");
            shape[axis++] = (int)size;
            // Saturate instead of overflowing: anything beyond the data buffer fails the size check below.
            elements = (long)Int128.Min((Int128)elements * size, dataLength + 1);
        }

        JsonElement offsetsElement = Required(path, where, value, "data_offsets", JsonValueKind.Array);
        if (offsetsElement.GetArrayLength() != 2
            || !TryGetOffset(offsetsElement[0], out long begin)
            || !TryGetOffset(offsetsElement[1], out long end))
        {
            throw Invalid(path, $"{where} data_offsets must be two non-negative integers, found {offsetsElement.GetRawText()}");
        }
        if (end < begin)
            throw Invalid(path, $"{where} data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Invalid(path, $"{where} data_offsets [{begin}, {end}] run past the end of the data buffer ({dataLength} bytes)");
        long expectedBytes = elements * sizeof(float);
        if (expectedBytes != end - begin)
        {
            string needs = elements > dataLength
                ? $"more bytes than the data buffer holds ({dataLength})"
                : $"{expectedBytes} bytes ({elements} elements)";
            throw Invalid(path, $"{where} shape [{string.Join(", ", shape)}] needs {needs} but data_offsets [{begin}, {end}] span {end - begin} bytes");
        }
        if (elements > Array.MaxLength)
            throw Invalid(path, $"{where} has {elements} elements, more than one array can hold");
        return new HeaderEntry(name, shape, begin, end);
    }

    private static JsonElement Required(string path, string where, JsonElement entry, string field, JsonValueKind kind)
    {
        if (!entry.TryGetProperty(field, out JsonElement element))
            throw Invalid(path, $"{where} has no '{field}'");
        if (element.ValueKind != kind)
            throw Invalid(path, $"{where} '{field}' must be {Describe(kind)}, found {Describe(element.ValueKind)}");
        return element;
    }

    private static bool TryGetOffset(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= 0;
    }

    private static byte[] BuildHeader(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps non-ASCII names readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (SafeTensor tensor in tensors)
            {
                CheckWritable(tensor, names);
                long end = offset + (long)tensor.Data.Length * sizeof(float);
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int size in tensor.Shape)
                    json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }

        // Pad with spaces to a multiple of 8, as the reference writer does, so the data buffer stays aligned.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void CheckWritable(SafeTensor tensor, HashSet<string> names)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Name == MetadataKey)
            throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor", nameof(tensor));
        if (!names.Add(tensor.Name))
            throw new ArgumentException($"tensor '{tensor.Name}' is given twice", nameof(tensor));
        long elements = 1;
        foreach (int size in tensor.Shape)
        {
            if (size < 0)
                throw new ArgumentException($"tensor '{tensor.Name}' has a negative dimension", nameof(tensor));
            elements *= size;
        }
        if (elements != tensor.Data.Length)
        {
            throw new ArgumentException(
                $"tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}] ({elements} elements) but {tensor.Data.Length} values",
                nameof(tensor));
        }
    }

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        Span<byte> value = stackalloc byte[sizeof(float)];
        foreach (float x in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(value, x);
            stream.Write(value);
        }
    }

    private static void ReverseEndianness(float[] data)
    {
        Span<int> bits = MemoryMarshal.Cast<float, int>(data.AsSpan());
        BinaryPrimitives.ReverseEndianness(bits, bits);
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    private static SmnistException Invalid(string path, string problem) => new($"{path}: {problem}");
}
