using Smnist.Nn;

namespace Smnist.Training;

/// <summary>
/// Floating-point operations of one training sample, counting the matrix products only (2 per multiply-add; the
/// element-wise passes and Adam are left out, so the count is what a perfect engine would have to multiply-add).
/// Per timestep t of T, for each layer with input width d (the first layer's features, then n) and n units:
/// <list type="bullet">
/// <item>forward, the gate product g = [v; x]·Wᵀ: 2·(n + d)·4n;</item>
/// <item>backward, the state gradient dv = dg·W_v: 2·4n·n, plus the input gradient dx = dg·W_x: 2·4n·d for every layer
/// but the first (whose input needs no gradient);</item>
/// <item>backward, the weight gradient dW += dgᵀ·[v; x]: 2·(n + d)·4n.</item>
/// </list>
/// Plus the readout once per sample: logits 2·n·C forward, its weight gradient and dv 2·n·C each backward.
/// Pixels (T = 784, d = 1, n = 128): 784 · (132,096 + 131,072 + 132,096) + 7,680 ≈ 309.9 MFLOP;
/// rows (T = 28, d = 28, n = 128): 28 · (159,744 + 131,072 + 159,744) + 7,680 ≈ 12.6 MFLOP.
/// </summary>
internal static class TrainingFlops
{
    public static double PerSample(ModelConfig model, int steps)
    {
        double n = model.HiddenSize, total = 0;
        for (int layer = 0; layer < model.Layers; layer++)
        {
            double d = layer == 0 ? model.InputSize : n;
            double gates = 2 * (n + d) * 4 * n;
            double stateGradient = 2 * 4 * n * (layer == 0 ? n : n + d);
            total += steps * (gates + stateGradient + gates);
        }
        return total + 3 * 2 * n * model.Classes;
    }
}
