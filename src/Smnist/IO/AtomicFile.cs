using System.Text;

namespace Smnist.IO;

/// <summary>
/// Writes files so that readers only ever see the old content or the complete new content: the bytes go to a
/// temporary file in the same directory (same file system, so the rename is atomic), are flushed to disk, and
/// the temporary file is then renamed over the target. A failure part-way deletes the temporary file; a failure to
/// write (a full disk) is a <see cref="SmnistException"/> naming the target.
/// </summary>
public static class AtomicFile
{
    private const string TemporarySuffix = ".tmp";

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> under a temporary name and renames it into place, so a crash never leaves a torn file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        RequireReplaceable(path);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (IOException e)
        {
            TryDelete(temporary);
            // .NET names the temporary file ("No space left on device : '/run/.x.tmp'"); the user knows the target.
            throw new SmnistException($"{fullPath}: cannot be written ({e.Message.Split(" : '")[0]}); the previous version, if any, is kept", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Throws a <see cref="SmnistException"/> unless <paramref name="path"/> is absent or a regular file: the check
    /// <see cref="Write"/> makes, for callers that want to refuse before doing the work.
    /// </summary>
    public static void RequireReplaceable(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileKind existing = FileKinds.Of(path, followLinks: false);
        if (existing is not (FileKind.Absent or FileKind.Regular))
            throw new SmnistException($"{path}: is {FileKinds.Describe(existing)}, not a regular file, and smnist replaces only regular files (nothing was written)");
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> as UTF-8, atomically as <see cref="Write"/> does.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
            stream.Write(bytes);
        });

    /// <summary>
    /// Deletes the temporary files <see cref="Write"/> leaves in <paramref name="directory"/> when its process is
    /// killed before it can clean up. Call it only while no other process writes there (under a run's lock).
    /// </summary>
    public static void DeleteTemporaries(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (string path in Directory.EnumerateFiles(directory, $".*{TemporarySuffix}"))
        {
            // Only our own pattern: ".{name}.{32 hex digits}.tmp".
            string name = Path.GetFileName(path);
            int guidStart = name.Length - TemporarySuffix.Length - 32;
            if (guidStart > 2 && name[guidStart - 1] == '.' && Guid.TryParseExact(name.AsSpan(guidStart, 32), "N", out _))
                TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original failure matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
