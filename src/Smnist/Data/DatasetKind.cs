namespace Smnist.Data;

/// <summary>Which 28×28 ten-class image set to load; both come as the same four IDX files.</summary>
public enum DatasetKind
{
    /// <summary>The handwritten digits 0–9.</summary>
    Mnist,
    /// <summary>Fashion-MNIST: ten kinds of clothing in the same format.</summary>
    Fashion,
}

/// <summary>The names the command line uses for <see cref="DatasetKind"/>.</summary>
public static class DatasetKindNames
{
    /// <summary>The command line's name of <paramref name="kind"/>: mnist or fashion.</summary>
    public static string NameOf(DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => "mnist",
        DatasetKind.Fashion => "fashion",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown data set"),
    };
}
