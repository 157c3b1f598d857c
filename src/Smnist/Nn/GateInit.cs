namespace Smnist.Nn;

/// <summary>How the forget-gate biases (and the input or refine gate's, as their negation) start.</summary>
public enum GateInit
{
    /// <summary>nn.Linear's uniform draw, or the constants given for the forget and input biases.</summary>
    Constant,

    /// <summary>
    /// Chrono initialisation (Tallec &amp; Ollivier 2018, "Can recurrent neural networks warp time?"):
    /// b_f = log(u), u ~ U(1, T_max − 1) per unit, and the input (or refine) gate's bias −b_f, so the units start
    /// with memory time scales spread up to the longest sequence.
    /// </summary>
    Chrono,

    /// <summary>
    /// Uniform gate initialisation (Gu et al. 2020, "Improving the Gating Mechanism of Recurrent Neural Networks"):
    /// b_f = σ⁻¹(u) = log(u / (1 − u)), u ~ U(1/n, 1 − 1/n) per unit (n the layer's units), so the forget
    /// activations start spread uniformly; the input (or refine) gate's bias −b_f.
    /// </summary>
    Uniform,
}
