namespace Smnist.Data;

/// <summary>Which 28×28 ten-class image set to load; both come as the same four IDX files.</summary>
public enum DatasetKind
{
    Mnist,
    Fashion,
}
