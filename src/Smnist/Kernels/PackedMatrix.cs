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
        Buffer = new AlignedBuffer(checked(Panels * PanelWidth * rows)); // panels × (k, PanelWidth)
    }

    /// <summary>k: the inner dimension of the product.</summary>
    public int Rows { get; }

    /// <summary>n: the columns of the product.</summary>
    public int Columns { get; }

    /// <summary>Columns per panel; each panel is (Rows, PanelWidth) contiguous, zero-padded past <see cref="Columns"/>.</summary>
    internal int PanelWidth { get; }

    /// <summary>Column panels: <see cref="Columns"/> / <see cref="PanelWidth"/>, rounded up.</summary>
    internal int Panels => (Columns + PanelWidth - 1) / PanelWidth;

    internal AlignedBuffer Buffer { get; }
}
