using System.Runtime.InteropServices;

namespace Smnist.IO;

/// <summary>What a path names in the file system.</summary>
internal enum FileKind
{
    Absent,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    /// <summary>A Windows device path such as <c>\\.\NUL</c>, or a type this code does not know.</summary>
    Other,
}

/// <summary>
/// The kind of file at a path, so that smnist never renames a file over a device, a FIFO or a symbolic link, and
/// never opens a FIFO to read a model (which blocks until someone writes to it). .NET has no public API for a Unix
/// file's type (dotnet/runtime#85148; <see cref="File.Exists"/> is true for a FIFO or a device), so on Unix this
/// asks <c>lstat</c>/<c>stat</c> through the runtime's own native shim, libSystem.Native, which every .NET install
/// and every single-file build carries and whose <c>FileStatus</c> layout (and its S_IF* values) is the same on
/// every Unix .NET runs on.
/// </summary>
internal static partial class FileKinds
{
    // pal_io.h: FileStatus starts { int32 Flags; int32 Mode; ... }; its full size is under 128 bytes, so a 256-byte
    // buffer is room enough whatever fields later runtimes append.
    private const int StatusBufferBytes = 256, ModeOffset = 4;
    private const int TypeMask = 0xF000, Fifo = 0x1000, CharacterDevice = 0x2000, Directory = 0x4000, BlockDevice = 0x6000,
        Regular = 0x8000, SymbolicLink = 0xA000, Socket = 0xC000;
    private const int NoSuchEntry = 2, NotADirectory = 20; // ENOENT, ENOTDIR

    /// <summary>
    /// The kind of file at <paramref name="path"/>; with <paramref name="followLinks"/> a symbolic link is the file it
    /// points to (absent when it dangles), without it the link itself.
    /// </summary>
    public static FileKind Of(string path, bool followLinks)
    {
        string fullPath = Path.GetFullPath(path);
        return OperatingSystem.IsWindows() ? OfWindowsPath(fullPath, followLinks) : OfUnixPath(fullPath, followLinks);
    }

    /// <summary>The kind as a phrase for messages: "a FIFO (named pipe)", "a symbolic link", ...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Absent => "absent",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "a device or special file",
    };

    private static unsafe FileKind OfUnixPath(string fullPath, bool followLinks)
    {
        byte* status = stackalloc byte[StatusBufferBytes];
        int result = followLinks ? Stat(fullPath, status) : LStat(fullPath, status);
        if (result != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error is NoSuchEntry or NotADirectory)
                return FileKind.Absent;
            // Permission denied on a folder on the way, and the like: the caller's open or rename reports it.
            return FileKind.Regular;
        }
        int mode = *(int*)(status + ModeOffset);
        return (mode & TypeMask) switch
        {
            Regular => FileKind.Regular,
            Directory => FileKind.Directory,
            SymbolicLink => FileKind.SymbolicLink,
            Fifo => FileKind.Fifo,
            CharacterDevice => FileKind.CharacterDevice,
            BlockDevice => FileKind.BlockDevice,
            Socket => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    private static FileKind OfWindowsPath(string fullPath, bool followLinks)
    {
        // \\.\NUL, \\.\COM1, \\.\pipe\...: devices and pipes, never files to replace.
        if (fullPath.StartsWith(@"\\.\", StringComparison.Ordinal))
            return FileKind.Other;
        var info = new FileInfo(fullPath);
        if (!followLinks && info.LinkTarget is not null)
            return FileKind.SymbolicLink;
        FileSystemInfo target = followLinks ? info.ResolveLinkTarget(returnFinalTarget: true) ?? info : info;
        if (!target.Exists)
            return System.IO.Directory.Exists(target.FullName) ? FileKind.Directory : FileKind.Absent;
        return target.Attributes.HasFlag(FileAttributes.Device) ? FileKind.Other : FileKind.Regular;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* status);
}
