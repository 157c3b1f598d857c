using System.Diagnostics;
using Smnist.Data;
using Smnist.IO;
using Smnist.Nn;
using Smnist.Tests.Cli;

namespace Smnist.Tests.IO;

/// <summary>
/// Files are written by renaming a temporary file over the target, which would replace a device, a FIFO or a
/// symbolic link with a regular file; smnist refuses such targets, and refuses to read a model from a FIFO (which
/// would block). The special files are made in a temporary folder: the real /dev/null is only ever inspected.
/// </summary>
[Trait("Category", "command")]
public sealed class SpecialFileTests : IDisposable
{
    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public SpecialFileTests() =>
        ModelCheckpoint.Save(_directory["model.safetensors"], SequenceClassifier<float>.Initialize(new ModelConfig(28, 4), seed: 1), SequenceLayout.Create(SequenceView.Rows));

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ExportWithForceLeavesAFifoAFifo()
    {
        string fifo = _directory["model.onnx"];
        Make("mkfifo", fifo);

        CliHarness.FailsWith(1, $"{fifo}: is a FIFO (named pipe), not a regular file, and smnist replaces only regular files (nothing was written)",
            "export", "--model", _directory["model.safetensors"], "--onnx", fifo, "--force");

        Assert.Equal(FileKind.Fifo, FileKinds.Of(fifo, followLinks: false));
        Assert.Equal(["model.onnx", "model.safetensors"], Directory.GetFileSystemEntries(_directory.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ExportWithForceLeavesASymbolicLinkAndItsTargetAsTheyWere()
    {
        string target = _directory["mine.onnx"], link = _directory["model.onnx"];
        File.WriteAllText(target, "mine");
        File.CreateSymbolicLink(link, target);

        CliHarness.FailsWith(1, $"{link}: is a symbolic link, not a regular file", "export", "--model", _directory["model.safetensors"], "--onnx", link, "--force");

        Assert.Equal(FileKind.SymbolicLink, FileKinds.Of(link, followLinks: false));
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("mine", File.ReadAllText(target));
    }

    [SkippableFact]
    public void ExportWithForceLeavesACharacterDeviceADevice()
    {
        // A null device of our own (major 1, minor 3, as /dev/null), so a regression replaces nothing that matters.
        string device = _directory["null"];
        Skip.IfNot(TryMake("mknod", device, "c", "1", "3"), "making a device node needs root (CAP_MKNOD)");

        CliHarness.FailsWith(1, $"{device}: is a character device, not a regular file", "export", "--model", _directory["model.safetensors"], "--onnx", device, "--force");

        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of(device, followLinks: false));
    }

    [Fact]
    public void DevNullIsSeenAsADeviceAndRefusedBeforeAnyWrite()
    {
        // Only inspected (lstat): RequireReplaceable writes nothing, so /dev/null is safe whatever it does.
        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of("/dev/null", followLinks: false));
        var refused = Assert.Throws<SmnistException>(() => AtomicFile.RequireReplaceable("/dev/null"));
        Assert.Equal("/dev/null: is a character device, not a regular file, and smnist replaces only regular files (nothing was written)", refused.Message);
    }

    [Fact]
    public void RegularFilesAndAbsentOnesAreStillReplaced()
    {
        string existing = _directory["existing.onnx"];
        File.WriteAllText(existing, "old");
        CliHarness.Succeeds("export", "--model", _directory["model.safetensors"], "--onnx", existing, "--force");
        CliHarness.Succeeds("export", "--model", _directory["model.safetensors"], "--onnx", _directory["new.onnx"]);

        Assert.NotEqual("old", File.ReadAllText(existing));
        Assert.Equal(FileKind.Regular, FileKinds.Of(existing, followLinks: false));
        Assert.Equal(FileKind.Regular, FileKinds.Of(_directory["new.onnx"], followLinks: false));
        Assert.Equal(FileKind.Absent, FileKinds.Of(_directory["none.onnx"], followLinks: false));
    }

    [Fact]
    public void AModelIsReadThroughASymbolicLink()
    {
        string link = _directory["link.safetensors"];
        File.CreateSymbolicLink(link, _directory["model.safetensors"]);

        CliHarness.Succeeds("export", "--model", link, "--onnx", _directory["model.onnx"]);
    }

    [Theory]
    [InlineData("eval", "--data-dir", "unused")]
    [InlineData("export", "--onnx", "unused.onnx")]
    [InlineData("predict", "--index", "0")]
    public async Task AFifoGivenAsAModelIsRefusedInsteadOfWaitedOn(params string[] command)
    {
        string fifo = _directory["model-fifo.safetensors"];
        Make("mkfifo", fifo);

        Task<CliHarness.Outcome> run = Task.Run(() => CliHarness.Run([.. command, "--model", fifo]));
        if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))) != run)
        {
            // Blocked opening the FIFO: a writer that closes at once gives the reader end-of-file and frees the thread.
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }
            Assert.Fail("smnist blocked opening the FIFO instead of refusing it");
        }
        CliHarness.Outcome outcome = await run;
        Assert.Equal(1, outcome.Exit);
        Assert.Equal($"error: {fifo}: is a FIFO (named pipe), not a regular file", outcome.Err.Trim());
    }

    private static void Make(string program, params string[] arguments) =>
        Assert.True(TryMake(program, arguments), $"{program} {string.Join(' ', arguments)} failed");

    private static bool TryMake(string program, params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
