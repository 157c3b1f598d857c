using Smnist.Cli;

namespace Smnist.Tests.Cli;

/// <summary>Image files as a hostile or careless user gives them: bombs, rotated photos, files cut short.</summary>
[Trait("Category", "unit")]
public sealed class ImageFileTests : IDisposable
{
    private static readonly string Images = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");

    private readonly CliHarness.TempDirectory _directory = CliHarness.TempDir();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void APixelBombIsRefusedFromItsHeaderWithoutDecoding()
    {
        // A real 20000×20000 grey PNG: 400 megapixels of zeros, which zlib shrinks to about 400 KB.
        string path = _directory["bomb.png"];
        WriteBlackPng(path, 20_000, 20_000);
        Assert.True(new FileInfo(path).Length < 2 << 20);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SmnistException>(() => ImageFile.ReadDigit(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("image is 20000×20000 pixels (400.0 megapixels); at most 16.8 megapixels (4096×4096) are read", error.Message);
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void APngWhoseImageDataInflatesPastItsHeaderIsRefusedWhileInflating()
    {
        // 1×1 grey pixel: 2 bytes of image data by its header, 256 MB of zeros in about 256 KB of file.
        byte[] bomb = HostileImages.GreyPng(1, 1, inflatedBytes: 256L << 20);
        Assert.True(bomb.Length < 1 << 20, $"{bomb.Length} bytes");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<SmnistException>(() => ImageFile.ToDigit(bomb));
        Assert.Equal("not a readable PNG image (its image data unpacks to more than the 2 bytes its header implies)", error.Message);
        // Inflating stopped after its first 64 KB: the 256 MB would take seconds.
        Assert.True(clock.ElapsedMilliseconds < 1000, $"{clock.ElapsedMilliseconds} ms");
    }

    [Theory]
    [InlineData(false, 16 * 17)]
    [InlineData(true, 286)] // Adam7's seven reduced images of 16×16
    public void ImageDataOfExactlyTheHeadersSizeIsDecodedAndOneByteMoreIsRefused(bool interlaced, int bytes)
    {
        // Zeros: a flat black square, which the decoder reads and the digit preparation then finds empty.
        var exact = Assert.Throws<SmnistException>(() => ImageFile.ToDigit(HostileImages.GreyPng(16, 16, bytes, interlaced)));
        Assert.StartsWith("no digit found", exact.Message);
        var over = Assert.Throws<SmnistException>(() => ImageFile.ToDigit(HostileImages.GreyPng(16, 16, bytes + 1, interlaced)));
        Assert.Contains($"unpacks to more than the {bytes} bytes its header implies", over.Message);
    }

    [Theory]
    [InlineData(1, 1, 8, 0, 0, 1 * (1 + 1))]
    [InlineData(28, 28, 8, 2, 0, 28 * (1 + 84))]
    [InlineData(5, 3, 1, 0, 0, 3 * (1 + 1))]
    [InlineData(4096, 4096, 16, 6, 0, 4096L * (1 + 4096 * 8))]
    // Adam7 of 3×3 at one bit per pixel: passes 1, 4, 5 and 7 have one reduced row, pass 6 two, passes 2 and 3 none; each row is a filter byte and one byte of pixels.
    [InlineData(3, 3, 1, 0, 1, 6 * 2)]
    public void ThePngImageDataSizeFollowsTheHeader(int width, int height, byte depth, byte colourType, byte interlace, long expected) =>
        Assert.Equal(expected, ImageFile.PngImageDataBytes(depth, colourType, interlace, width, height));

    [Fact]
    public void AJpegOfThousandsOfEmptyScansIsRefusedBeforeDecoding()
    {
        // About 25 KB: 2,000 progressive scans of a 1024×1024 image, each revisiting 16,384 blocks.
        byte[] bomb = HostileImages.JpegScanBomb(1024, 1024, acScans: 2000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<SmnistException>(() => ImageFile.ToDigit(bomb));
        Assert.Equal($"not a readable JPEG image (more than {ImageFile.MaxJpegScans} scans; each scan revisits the whole image)", error.Message);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"{clock.ElapsedMilliseconds} ms");

        // At the limit the file is decoded (it is a flat grey square: no digit in it).
        byte[] allowed = HostileImages.JpegScanBomb(64, 64, acScans: ImageFile.MaxJpegScans - 1);
        Assert.Contains("no digit", Assert.Throws<SmnistException>(() => ImageFile.ToDigit(allowed)).Message);
    }

    [Fact]
    public void DecodingStopsWhenItsTokenIsCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        byte[] jpeg = File.ReadAllBytes(Path.Combine(Images, "seven-upright.jpg"));
        Assert.ThrowsAny<OperationCanceledException>(() => ImageFile.ToDigit(jpeg, cancelled.Token));
        byte[] png = HostileImages.GreyPng(1024, 1024, inflatedBytes: 1024 * 1025);
        Assert.ThrowsAny<OperationCanceledException>(() => ImageFile.ToDigit(png, cancelled.Token));
    }

    [Fact]
    public void ExifOrientationIsApplied()
    {
        // The same 7, stored upright, and stored turned 90° anticlockwise with orientation 6 (view turned clockwise).
        byte[] upright = ImageFile.ReadDigit(Path.Combine(Images, "seven-upright.jpg"));
        byte[] rotated = ImageFile.ReadDigit(Path.Combine(Images, "seven-exif6.jpg"));
        byte[] storedAsIs = StoredPixelsIgnoringOrientation(Path.Combine(Images, "seven-exif6.jpg"));

        double withOrientation = MeanAbsoluteDifference(upright, rotated);
        double without = MeanAbsoluteDifference(upright, storedAsIs);
        Assert.True(withOrientation < 6, $"oriented photo differs from the upright one by {withOrientation:F1} per pixel");
        Assert.True(without > 4 * withOrientation, $"ignoring the orientation: {without:F1} per pixel, with it: {withOrientation:F1}");
    }

    [Theory]
    [InlineData(1, new byte[] { 1, 2, 3, 4, 5, 6 }, 3, 2)]
    [InlineData(2, new byte[] { 3, 2, 1, 6, 5, 4 }, 3, 2)]
    [InlineData(3, new byte[] { 6, 5, 4, 3, 2, 1 }, 3, 2)]
    [InlineData(4, new byte[] { 4, 5, 6, 1, 2, 3 }, 3, 2)]
    [InlineData(5, new byte[] { 1, 4, 2, 5, 3, 6 }, 2, 3)]
    [InlineData(6, new byte[] { 4, 1, 5, 2, 6, 3 }, 2, 3)]
    [InlineData(7, new byte[] { 6, 3, 5, 2, 4, 1 }, 2, 3)]
    [InlineData(8, new byte[] { 3, 6, 2, 5, 1, 4 }, 2, 3)]
    public void EachOrientationTurnsAndMirrorsAsExifDefinesIt(int orientation, byte[] expected, int width, int height)
    {
        // Stored 3×2:  1 2 3 / 4 5 6, one value per pixel (repeated over its four channels).
        byte[] stored = new byte[] { 1, 2, 3, 4, 5, 6 }.SelectMany(v => Enumerable.Repeat(v, 4)).ToArray();
        (byte[] pixels, int outWidth, int outHeight) = ImageFile.Orient(stored, 3, 2, orientation);
        Assert.Equal((width, height), (outWidth, outHeight));
        Assert.Equal(expected, pixels.Where((_, k) => k % 4 == 0).ToArray());
    }

    [Fact]
    public void ATruncatedJpegSaysSo()
    {
        string path = Path.Combine(Images, "seven-truncated.jpg");
        var error = Assert.Throws<SmnistException>(() => ImageFile.ReadDigit(path));
        Assert.Contains($"{path}: truncated JPEG", error.Message);
    }

    [Fact]
    public void ACompleteJpegWithTrailingBytesIsRead()
    {
        string path = _directory["trailing.jpg"];
        File.WriteAllBytes(path, [.. File.ReadAllBytes(Path.Combine(Images, "seven-upright.jpg")), 0, 0, 0]);
        Assert.Equal(ImageFile.ReadDigit(Path.Combine(Images, "seven-upright.jpg")), ImageFile.ReadDigit(path));
    }

    private static byte[] StoredPixelsIgnoringOrientation(string path)
    {
        var decoded = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.RedGreenBlueAlpha);
        return Smnist.Imaging.DigitImage.ToMnist(decoded.Data, decoded.Width, decoded.Height, channels: 4);
    }

    private static double MeanAbsoluteDifference(byte[] a, byte[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    /// <summary>A grey PNG of zeros, streamed row by row so the test itself never holds the image.</summary>
    private static void WriteBlackPng(string path, int width, int height)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[width + 1];
            for (int y = 0; y < height; y++)
                zlib.Write(row);
        }
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = 8;  // bit depth; colour type 0: grey
        CliHarness.WritePngChunks(path, ("IHDR", header), ("IDAT", compressed.ToArray()), ("IEND", []));
    }
}
