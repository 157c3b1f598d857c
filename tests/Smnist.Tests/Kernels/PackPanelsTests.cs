using Smnist.Kernels;

namespace Smnist.Tests.Kernels;

[Trait("Category", "unit")]
public class PackPanelsTests
{
    private static readonly int PartlyFilledFourPanels = 3 * Gemm.PanelWidth + Gemm.PanelWidth / 2 + 1;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PackingDisjointPanelRangesGivesWhatPackGives(bool transposeB)
    {
        int k = 37, n = PartlyFilledFourPanels; // the last panel only partly filled
        var random = new Random(4);
        float[] b = new float[k * n];
        for (int index = 0; index < b.Length; index++)
            b[index] = random.NextSingle() - 0.5f;
        int ldb = transposeB ? k : n;

        var whole = new PackedMatrix(k, n);
        Gemm.Pack(whole, b, ldb, transposeB);
        var inParts = new PackedMatrix(k, n);
        Contents(inParts).Fill(float.NaN); // whatever no range writes stays NaN and shows
        Gemm.PackPanels(inParts, b, ldb, transposeB, firstPanel: 0, panels: 1);
        Gemm.PackPanels(inParts, b, ldb, transposeB, firstPanel: 1, panels: 0);
        Gemm.PackPanels(inParts, b, ldb, transposeB, firstPanel: 1, panels: 3);

        Assert.Equal(4, whole.Panels);
        Assert.Equal(Bits(Contents(whole)), Bits(Contents(inParts)));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(3, 2)]
    [InlineData(0, -1)]
    public void APanelRangeOutsideTheMatrixIsRefused(int firstPanel, int panels)
    {
        var packed = new PackedMatrix(8, PartlyFilledFourPanels);
        float[] b = new float[8 * packed.Columns];
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PackPanels(packed, b, packed.Columns, transposeB: false, firstPanel, panels));
    }

    internal static unsafe Span<float> Contents(PackedMatrix packed) =>
        new(packed.Buffer.Pointer, packed.Panels * packed.PanelWidth * packed.Rows);

    internal static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int index = 0; index < values.Length; index++)
            bits[index] = BitConverter.SingleToInt32Bits(values[index]);
        return bits;
    }
}
