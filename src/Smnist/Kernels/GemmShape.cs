namespace Smnist.Kernels;

/// <summary>Argument checks shared by the matrix products: every element the shape and strides address must lie inside its span.</summary>
internal static class GemmShape
{
    public static void Validate(int cLength, int ldc, int aLength, int lda, bool transposeA,
                                int bLength, int ldb, bool transposeB, int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        RequireMatrix(cLength, ldc, m, n, "c");
        if (transposeA)
            RequireMatrix(aLength, lda, k, m, "a");
        else
            RequireMatrix(aLength, lda, m, k, "a");
        if (transposeB)
            RequireMatrix(bLength, ldb, n, k, "b");
        else
            RequireMatrix(bLength, ldb, k, n, "b");
    }

    /// <summary>A (rows, columns) matrix with row stride <paramref name="stride"/> must fit in <paramref name="length"/> elements.</summary>
    public static void RequireMatrix(int length, int stride, int rows, int columns, string name)
    {
        if (stride < columns)
            throw new ArgumentException($"row stride {stride} of '{name}' is below its {columns} columns", name);
        if (rows == 0 || columns == 0)
            return;
        long needed = (long)(rows - 1) * stride + columns;
        if (needed > length)
        {
            throw new ArgumentException(
                $"'{name}' holds {length} elements but a ({rows}, {columns}) matrix with row stride {stride} needs {needed}", name);
        }
    }
}
