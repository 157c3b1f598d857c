namespace Smnist.Data.Acquisition;

/// <summary>One of the four IDX files of a data set: its original name (uncompressed), length and MD5.</summary>
internal sealed record DatasetFile(string Name, long Length, string Md5);

/// <summary>The four files of each data set, with the MD5 of their uncompressed content.</summary>
internal static class DatasetFiles
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    // Lengths are those of the uncompressed files: 16- or 8-byte header plus 60,000 / 10,000 items.
    private static readonly DatasetFile[] MnistFiles =
    [
        new(TrainImages, 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
        new(TrainLabels, 60_008, "a25bea736e30d166cdddb491f175f624"),
        new(TestImages, 7_840_016, "2646ac647ad5339dbf082846283269ea"),
        new(TestLabels, 10_008, "27ae3e4e09519cfbb04c329615203637"),
    ];

    // Uncompressed MD5s as listed in torchvision's FashionMNIST (raw_data, up to 0.3), checked against Debian's files.
    private static readonly DatasetFile[] FashionFiles =
    [
        new(TrainImages, 47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        new(TrainLabels, 60_008, "9018921c3c673c538a1fc5bad174d6f9"),
        new(TestImages, 7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
        new(TestLabels, 10_008, "15d484375f8d13e6eb1aabb0c3f46965"),
    ];

    public static IReadOnlyList<DatasetFile> For(DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => MnistFiles,
        DatasetKind.Fashion => FashionFiles,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data set"),
    };

    public static string DisplayName(DatasetKind kind) => kind == DatasetKind.Fashion ? "Fashion-MNIST" : "MNIST";

    public static string CacheFolderName(DatasetKind kind) => kind == DatasetKind.Fashion ? "fashion-mnist" : "mnist";
}
