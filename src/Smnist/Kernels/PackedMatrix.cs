namespace Smnist.Kernels;

/// <summary>
/// The right-hand operand op(B) (k, n) of <see cref="Gemm.Multiply(Span{float}, int, ReadOnlySpan{float}, int, bool, PackedMatrix, int, bool)"/>,
/// rearranged once into the micro-kernel's column panels. Pack a weight matrix once per training step with
/// <see cref="Gemm.Pack"/> and reuse it for every timestep. Read-only during a product, so several threads may share it.
/// </summary>
internal sealed class PackedMatrix
{
    /// <summary>Allocates room for an op(B) of <paramref name="rows"/> (k) by <paramref name="columns"/> (n).</summary>
    public PackedMatrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        Rows = rows;
        Columns = columns;
        PanelWidth = Gemm.PanelWidth;
        int panels = (columns + PanelWidth - 1) / PanelWidth;
        Buffer = new AlignedBuffer(checked(panels * PanelWidth * rows)); // panels × (k, PanelWidth)
    }

    /// <summary>k: the inner dimension of the product.</summary>
    public int Rows { get; }

    /// <summary>n: the columns of the product.</summary>
    public int Columns { get; }

    /// <summary>Columns per panel; each panel is (Rows, PanelWidth) contiguous, zero-padded past <see cref="Columns"/>.</summary>
    internal int PanelWidth { get; }

    internal AlignedBuffer Buffer { get; }
}
