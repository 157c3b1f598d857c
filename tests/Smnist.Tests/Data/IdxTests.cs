using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
public class IdxTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_raw_and_gzipped_files_alike(bool gzip)
    {
        using var directory = new TemporaryDirectory();
        byte[] images = IdxBuilder.Images(7);
        byte[] labels = IdxBuilder.Labels(7);
        string imagesPath = directory.File(gzip ? "images.gz" : "images");
        string labelsPath = directory.File(gzip ? "labels.gz" : "labels");
        File.WriteAllBytes(imagesPath, gzip ? IdxBuilder.Gzip(images) : images);
        File.WriteAllBytes(labelsPath, gzip ? IdxBuilder.Gzip(labels) : labels);

        ImageSet set = Idx.Read(imagesPath, labelsPath);

        Assert.Equal(7, set.Count);
        Assert.Equal(images.AsSpan(16).ToArray(), set.Images);
        Assert.Equal(labels.AsSpan(8).ToArray(), set.Labels);
        Assert.Equal(images.AsSpan(16 + 3 * 784, 784).ToArray(), set.Image(3).ToArray());
    }

    [Theory]
    [InlineData(false, 10)]
    [InlineData(true, 10)]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    [InlineData(false, 16 + 784 * 5 - 1)]
    [InlineData(true, 16 + 784 * 5 - 1)]
    public void Truncated_images_are_rejected_naming_the_file(bool gzip, int keptBytes)
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Images(5).AsSpan(0, keptBytes).ToArray();
        string path = directory.File("cut-images");
        File.WriteAllBytes(path, gzip ? IdxBuilder.Gzip(content) : content);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Trailing_data_is_rejected(bool gzip)
    {
        using var directory = new TemporaryDirectory();
        byte[] content = [.. IdxBuilder.Labels(5), 3];
        string path = directory.File("long-labels");
        File.WriteAllBytes(path, gzip ? IdxBuilder.Gzip(content) : content);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadLabels(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("beyond", error.Message);
    }

    [Fact]
    public void Wrong_magic_is_rejected_and_a_swapped_file_is_named_as_such()
    {
        using var directory = new TemporaryDirectory();
        string labelsGivenAsImages = directory.File("labels");
        File.WriteAllBytes(labelsGivenAsImages, IdxBuilder.Labels(5));
        string garbage = directory.File("garbage");
        File.WriteAllBytes(garbage, IdxBuilder.Images(2, magic: 0x12345678));

        var swapped = Assert.Throws<SmnistException>(() => Idx.ReadImages(labelsGivenAsImages));
        var wrong = Assert.Throws<SmnistException>(() => Idx.ReadImages(garbage));

        Assert.Contains("IDX labels file", swapped.Message);
        Assert.Contains("0x12345678", wrong.Message);
        Assert.Contains(garbage, wrong.Message);
    }

    [Theory]
    [InlineData(32, 32)]
    [InlineData(28, 27)]
    [InlineData(0, 0)]
    public void Wrong_dimensions_are_rejected(int rows, int columns)
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("images");
        File.WriteAllBytes(path, IdxBuilder.Images(3, rows: rows, columns: columns));

        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(path));

        Assert.Contains($"{rows}x{columns}", error.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_agree()
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllBytes(directory.File("images"), IdxBuilder.Images(5));
        File.WriteAllBytes(directory.File("labels"), IdxBuilder.Labels(6));

        var error = Assert.Throws<SmnistException>(() => Idx.Read(directory.File("images"), directory.File("labels")));

        Assert.Contains("5 images", error.Message);
        Assert.Contains("6 labels", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_lying_header_count_fails_without_a_huge_allocation(bool gzip)
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Images(2);
        content[4] = 0x00; // count 0x00_1E_84_80 = 2,000,000: 1.6 GB if trusted
        content[5] = 0x1E;
        content[6] = 0x84;
        content[7] = 0x80;
        string path = directory.File("liar");
        File.WriteAllBytes(path, gzip ? IdxBuilder.Gzip(content) : content);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("truncated", error.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_raw_file_declaring_more_images_than_an_array_holds_is_refused()
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Images(2);
        content[4] = 0x00; // count 0x00_2D_C6_C0 = 3,000,000: 2.35 GB, more than one byte array holds
        content[5] = 0x2D;
        content[6] = 0xC6;
        content[7] = 0xC0;
        string path = directory.File("three-million");
        // As long as the header says (2.35 GB, sparse: no disk is used), so the length check alone does not stop it.
        using (var file = File.Create(path))
        {
            file.Write(content);
            file.SetLength(16 + 3_000_000L * 784);
        }

        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(path));

        Assert.Contains("3000000 images", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_gzip_bomb_behind_a_huge_count_is_refused_before_decompressing()
    {
        using var directory = new TemporaryDirectory();
        // 10,000,000 images declared; the content behind the header is 64 MB of zeros, which gzip shrinks to 64 KB.
        byte[] header = IdxBuilder.Images(0);
        header[4] = 0x00;
        header[5] = 0x98;
        header[6] = 0x96;
        header[7] = 0x80;
        string path = directory.File("bomb.gz");
        using (var file = File.Create(path))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal))
        {
            gzip.Write(header);
            var zeros = new byte[1 << 20];
            for (int k = 0; k < 64; k++)
                gzip.Write(zeros);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("10000000 images", error.Message);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_gzip_checksum_failure_is_named_as_one()
    {
        using var directory = new TemporaryDirectory();
        byte[] compressed = IdxBuilder.Gzip(IdxBuilder.Labels(50));
        compressed[^6] ^= 0x01; // inside the CRC-32 of the trailer
        string path = directory.File("labels.gz");
        File.WriteAllBytes(path, compressed);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadLabels(path));

        Assert.Contains("CRC-32", error.Message);
        Assert.DoesNotContain("unsupported compression method", error.Message);
    }

    [Fact]
    public void A_folder_given_as_a_file_is_named_as_a_folder()
    {
        using var directory = new TemporaryDirectory();
        string folder = directory.File("images-folder");
        Directory.CreateDirectory(folder);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadImages(folder));

        Assert.Contains("is a folder, not a file", error.Message);
    }

    [Fact]
    public void Negative_or_absurd_counts_are_rejected()
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Labels(2);
        content[4] = 0xff;
        string path = directory.File("labels");
        File.WriteAllBytes(path, content);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadLabels(path));

        Assert.Contains("outside", error.Message);
    }

    [Fact]
    public void Labels_outside_0_to_9_are_rejected()
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Labels(4);
        content[8 + 2] = 10;
        string path = directory.File("labels");
        File.WriteAllBytes(path, content);

        var error = Assert.Throws<SmnistException>(() => Idx.ReadLabels(path));

        Assert.Contains("label 10 at index 2", error.Message);
    }

    [Fact]
    public void Missing_file_and_corrupt_gzip_are_one_line_errors()
    {
        using var directory = new TemporaryDirectory();
        string corrupt = directory.File("corrupt.gz");
        byte[] gzip = IdxBuilder.Gzip(IdxBuilder.Images(3));
        gzip[gzip.Length / 2] ^= 0xff;
        gzip[gzip.Length / 2 + 1] ^= 0xff;
        File.WriteAllBytes(corrupt, gzip);

        var missing = Assert.Throws<SmnistException>(() => Idx.ReadImages(directory.File("absent")));
        var broken = Assert.Throws<SmnistException>(() => Idx.ReadImages(corrupt));

        Assert.Contains("not found", missing.Message);
        Assert.Contains(corrupt, broken.Message);
        Assert.DoesNotContain('\n', broken.Message);
    }

    [Fact]
    public void Md5_of_content_sees_through_gzip_and_changes_with_one_byte()
    {
        using var directory = new TemporaryDirectory();
        byte[] content = IdxBuilder.Images(3);
        File.WriteAllBytes(directory.File("raw"), content);
        File.WriteAllBytes(directory.File("packed.gz"), IdxBuilder.Gzip(content));
        content[500] ^= 1;
        File.WriteAllBytes(directory.File("changed"), content);

        string expected = IdxBuilder.Md5(IdxBuilder.Images(3));
        Assert.Equal(expected, Idx.Md5OfContent(directory.File("raw")));
        Assert.Equal(expected, Idx.Md5OfContent(directory.File("packed.gz")));
        Assert.NotEqual(expected, Idx.Md5OfContent(directory.File("changed")));
    }

    [Fact]
    public void The_committed_subset_holds_real_digits()
    {
        var (train, test) = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory);

        Assert.Equal(2000, train.Count);
        Assert.Equal(1000, test.Count);
        // MNIST's first training labels are 5, 0, 4, 1, 9 and its first test labels 7, 2, 1, 0, 4.
        Assert.Equal([5, 0, 4, 1, 9], train.Labels.AsSpan(0, 5).ToArray());
        Assert.Equal([7, 2, 1, 0, 4], test.Labels.AsSpan(0, 5).ToArray());
        Assert.All(Enumerable.Range(0, 10), digit => Assert.Contains((byte)digit, train.Labels));
    }

    [Fact]
    public void Take_keeps_the_first_images()
    {
        ImageSet set = IdxBuilder.Numbered(10);

        ImageSet first = set.Take(4);

        Assert.Equal(4, first.Count);
        Assert.Equal(set.Images.AsSpan(0, 4 * 784).ToArray(), first.Images);
        Assert.Same(set, set.Take(10));
    }
}
