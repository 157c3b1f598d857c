using System.Numerics.Tensors;

namespace Smnist.Optim;

/// <summary>torch.nn.utils.clip_grad_norm_ over the flat gradient buffer.</summary>
internal static class GradientClipping
{
    /// <summary>Scales <paramref name="gradient"/> by <see cref="Scale"/>.</summary>
    public static void ClipGlobalNorm(Span<float> gradient, float maxNorm)
    {
        float scale = Scale(gradient, maxNorm);
        if (scale < 1f)
            TensorPrimitives.Multiply(gradient, scale, gradient);
    }

    /// <summary>
    /// What clipping scales <paramref name="gradient"/> by: maxNorm / (‖g‖ + 1e-6) when that is below one, else one.
    /// The scaling is element by element, so it may be applied in parts.
    /// </summary>
    public static float Scale(ReadOnlySpan<float> gradient, float maxNorm)
    {
        float scale = maxNorm / (TensorPrimitives.Norm(gradient) + 1e-6f);
        return scale < 1f ? scale : 1f;
    }
}
