using System.Buffers.Binary;
using System.IO.Compression;

namespace Smnist.Tests.Cli;

/// <summary>Small files that cost a naive decoder far more than their size: the bombs the decoders must bound.</summary>
internal static class HostileImages
{
    /// <summary>
    /// A grey 8-bit PNG of <paramref name="width"/>×<paramref name="height"/> pixels whose image data inflates to
    /// <paramref name="inflatedBytes"/> zeros, which can be far more than the header implies: zlib packs them about
    /// 1,000 to 1.
    /// </summary>
    public static byte[] GreyPng(int width, int height, long inflatedBytes, bool interlaced = false)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long done = 0; done < inflatedBytes; done += zeros.Length)
                zlib.Write(zeros, 0, (int)Math.Min(zeros.Length, inflatedBytes - done));
        }
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = 8; // bit depth; colour type 0: grey
        header[12] = interlaced ? (byte)1 : (byte)0;
        string path = Path.GetTempFileName();
        try
        {
            CliHarness.WritePngChunks(path, ("IHDR", header), ("IDAT", compressed.ToArray()), ("IEND", []));
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A valid-looking grey progressive JPEG of <paramref name="width"/>×<paramref name="height"/> pixels: one DC
    /// scan, then <paramref name="acScans"/> AC scans that each say only "every block ends here" (EOB runs of 32,767
    /// blocks), a few bytes each; a decoder still walks every block once per scan.
    /// </summary>
    public static byte[] JpegScanBomb(int width, int height, int acScans)
    {
        var jpeg = new List<byte> { 0xFF, 0xD8 };
        void Segment(byte marker, params byte[] data)
        {
            jpeg.AddRange([0xFF, marker, (byte)((data.Length + 2) >> 8), (byte)(data.Length + 2)]);
            jpeg.AddRange(data);
        }
        Segment(0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);                                        // quantisation table 0: all 1
        Segment(0xC2, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]); // progressive frame, one component
        byte[] oneCode = [1, .. new byte[15]];                                                             // one code, of length 1: "0"
        Segment(0xC4, [0x00, .. oneCode, 0x00]);                                                           // DC table 0: difference category 0
        Segment(0xC4, [0x10, .. oneCode, 0xE0]);                                                           // AC table 0: EOB run, 14 extra bits
        int blocks = ((width + 7) / 8) * ((height + 7) / 8);

        Segment(0xDA, [1, 1, 0x00, 0, 0, 0x00]);                                                          // DC scan: a 0 bit per block
        var bits = new BitWriter(jpeg);
        for (int b = 0; b < blocks; b++)
            bits.Write(0, 1);
        bits.Flush();
        for (int scan = 0; scan < acScans; scan++)
        {
            Segment(0xDA, [1, 1, 0x00, 1, 63, 0x00]);                                                     // AC scan, coefficients 1..63
            for (int covered = 0; covered < blocks; covered += 32767)
            {
                bits.Write(0, 1);         // the EOB-run symbol
                bits.Write(0x3FFF, 14);   // run = 2^14 + 16383 = 32767 blocks
            }
            bits.Flush();
        }
        jpeg.AddRange([0xFF, 0xD9]);
        return [.. jpeg];
    }

    /// <summary>Entropy-coded bits, most significant first, with JPEG's 0x00 after each 0xFF and 1s as fill.</summary>
    private sealed class BitWriter(List<byte> output)
    {
        private int _byte, _count;

        public void Write(int value, int length)
        {
            for (int k = length - 1; k >= 0; k--)
            {
                _byte = (_byte << 1) | ((value >> k) & 1);
                if (++_count == 8)
                    Emit();
            }
        }

        public void Flush()
        {
            while (_count != 0)
                Write(1, 1);
        }

        private void Emit()
        {
            output.Add((byte)_byte);
            if (_byte == 0xFF)
                output.Add(0x00);
            _byte = _count = 0;
        }
    }
}
