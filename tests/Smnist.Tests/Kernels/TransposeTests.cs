using Smnist.Kernels;

namespace Smnist.Tests.Kernels;

[Trait("Category", "unit")]
public sealed class TransposeTests
{
    public static TheoryData<int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int>();
        // Every block remainder of both dimensions, with strides at and beyond the rows they hold.
        foreach (int rows in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 24 })
        {
            foreach (int columns in new[] { 0, 1, 3, 8, 13, 16, 33 })
            {
                data.Add(rows, columns, 0, 0);
                data.Add(rows, columns, 5, 3);
            }
        }
        data.Add(136, 512, 0, 0); // a rows model's weight gradient, (n+d, 4n)
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FloatsLandWhereTheNaiveTransposePutsThem(int rows, int columns, int sourcePadding, int destinationPadding)
    {
        int lds = columns + sourcePadding, ldd = rows + destinationPadding;
        float[] source = Enumerable.Range(0, Math.Max(0, rows * lds)).Select(k => k * 0.5f - 7f).ToArray();
        float[] destination = Enumerable.Repeat(float.NaN, Math.Max(0, columns * ldd)).ToArray();

        Transpose.Run(destination, ldd, source, lds, rows, columns);

        for (int j = 0; j < columns; j++)
        {
            for (int i = 0; i < ldd; i++)
            {
                // Padding between the destination's rows is left as it was.
                float expected = i < rows ? source[i * lds + j] : float.NaN;
                Assert.Equal(expected, destination[j * ldd + i]);
            }
        }
    }

    [Fact]
    public void DoublesTakeTheElementPath()
    {
        double[] source = Enumerable.Range(0, 9 * 10).Select(k => (double)k).ToArray();
        var destination = new double[10 * 9];

        Transpose.Run<double>(destination, 9, source, 10, rows: 9, columns: 10);

        for (int i = 0; i < 9; i++)
        {
            for (int j = 0; j < 10; j++)
                Assert.Equal(source[i * 10 + j], destination[j * 9 + i]);
        }
    }

    [Fact]
    public void ABufferTooShortIsRefused()
    {
        var source = new float[8 * 8];
        var destination = new float[8 * 8 - 1];

        var error = Assert.Throws<ArgumentException>(() => Transpose.Run<float>(destination, 8, source, 8, rows: 8, columns: 8));

        Assert.Equal("destination", error.ParamName);
    }
}
