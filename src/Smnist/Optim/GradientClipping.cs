using System.Numerics.Tensors;

namespace Smnist.Optim;

/// <summary>torch.nn.utils.clip_grad_norm_ over the flat gradient buffer.</summary>
internal static class GradientClipping
{
    /// <summary>
    /// Scales <paramref name="gradient"/> by maxNorm / (‖g‖ + 1e-6) when that is below one; returns ‖g‖ before
    /// clipping.
    /// </summary>
    public static float ClipGlobalNorm(Span<float> gradient, float maxNorm)
    {
        float norm = TensorPrimitives.Norm(gradient);
        float scale = maxNorm / (norm + 1e-6f);
        if (scale < 1f)
            TensorPrimitives.Multiply(gradient, scale, gradient);
        return norm;
    }
}
