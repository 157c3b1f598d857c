namespace Smnist.Nn;

/// <summary>
/// The shape of a sequence classifier: <see cref="Layers"/> stacked LSTM layers of <see cref="HiddenSize"/> units
/// reading <see cref="InputSize"/> features per timestep, and a linear readout to <see cref="Classes"/> logits.
/// </summary>
public sealed record ModelConfig(int InputSize, int HiddenSize, int Layers = 1, int Classes = 10)
{
    /// <summary>
    /// Every layer is a UR-LSTM cell (Gu et al. 2020): the input gate's place holds a refine gate r, the cell keeps
    /// g = r(1 − (1 − f)²) + (1 − r)f² of c_{t−1} and writes 1 − g of c̃ (see <see cref="LstmCell"/>). Same
    /// parameter count and layout as the plain LSTM; only block 1 of each layer's gates means r instead of i.
    /// </summary>
    public bool RefineGate { get; init; }

    /// <summary>Throws <see cref="SmnistException"/> naming the first size out of range.</summary>
    public void Validate()
    {
        Require(InputSize, nameof(InputSize), 1, 1 << 16);
        Require(HiddenSize, nameof(HiddenSize), 1, 1 << 14);
        Require(Layers, nameof(Layers), 1, 64);
        Require(Classes, nameof(Classes), 2, 1 << 16);
        if (ParameterCount > Array.MaxLength)
            throw new SmnistException($"a model of {Layers} layer(s) of {HiddenSize} units has {ParameterCount} parameters, more than one buffer can hold ({Array.MaxLength})");
    }

    /// <summary>Number of parameters, in 64-bit arithmetic so that no configuration in range overflows.</summary>
    public long ParameterCount
    {
        get
        {
            long n = HiddenSize, count = (long)Classes * n + Classes;
            for (int layer = 0; layer < Layers; layer++)
                count += 4 * n * (n + LayerInputSize(layer)) + 4 * n;
            return count;
        }
    }

    /// <summary>Inputs of layer <paramref name="layer"/>: the image features for the first, the layer below's outputs above it.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : HiddenSize;

    private static void Require(int value, string name, int min, int max)
    {
        if (value < min || value > max)
            throw new SmnistException($"model {name} is {value}; it must be between {min} and {max}");
    }
}
