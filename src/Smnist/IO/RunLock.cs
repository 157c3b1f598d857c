using System.Globalization;

namespace Smnist.IO;

/// <summary>
/// Holds a run folder for one training process at a time, so two runs can never mix their files in it. The lock is
/// <see cref="FileName"/> opened for exclusive use, which the operating system releases when its process ends in
/// any way (a kill included), so a stale lock never blocks. An exclusively opened file cannot be read by others,
/// so the holder describes itself in <see cref="HolderFileName"/>, for the message a second run gets.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file in the run folder.</summary>
    public const string FileName = ".smnist-lock";
    /// <summary>The file naming the process that holds the lock.</summary>
    public const string HolderFileName = ".smnist-lock-holder";

    private readonly FileStream _stream;

    private RunLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock of <paramref name="directory"/> (created if needed), or throws a <see cref="SmnistException"/> naming its holder.</summary>
    public static RunLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        FileStream stream;
        try
        {
            stream = new FileStream(Path.Combine(directory, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, FileName)))
        {
            throw new SmnistException($"{directory} is in use by another smnist train ({Holder(directory)}); wait for it to end or choose another --out");
        }
        try
        {
            AtomicFile.WriteAllText(Path.Combine(directory, HolderFileName), string.Create(CultureInfo.InvariantCulture,
                $"pid {Environment.ProcessId} on {Environment.MachineName}, since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC\n"));
            return new RunLock(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a process holds the lock of <paramref name="directory"/> now, probed by taking it for an instant: a run
    /// that starts in that instant finds it taken and is refused as if the folder were in use.
    /// </summary>
    public static bool IsHeld(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException) when (File.Exists(path))
        {
            return true;
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _stream.Dispose();

    private static string Holder(string directory)
    {
        try
        {
            return File.ReadLines(Path.Combine(directory, HolderFileName)).FirstOrDefault() is { Length: > 0 } line ? line : "holder unknown";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "holder unknown";
        }
    }
}
