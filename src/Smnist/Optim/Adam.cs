using System.Numerics;

namespace Smnist.Optim;

/// <summary>Adam's settings, with torch.optim.Adam's defaults. A non-zero weight decay is decoupled, as AdamW's.</summary>
internal sealed record AdamSettings(float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f, float WeightDecay = 0f);

/// <summary>
/// Adam with torch.optim.Adam's exact update, as one fused pass over the flat parameter buffer:
/// <code>
/// p ← p · (1 − lr·wd)                       (decoupled weight decay, off by default)
/// m ← β1·m + (1 − β1)·g       v ← β2·v + (1 − β2)·g²
/// p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// </code>
/// </summary>
internal sealed class Adam
{
    public Adam(int parameterCount, AdamSettings? settings = null)
    {
        Settings = settings ?? new AdamSettings();
        FirstMoment = new float[parameterCount];
        SecondMoment = new float[parameterCount];
    }

    public AdamSettings Settings { get; }

    /// <summary>Number of updates taken (PyTorch's state["step"]).</summary>
    public long Step { get; private set; }

    /// <summary>m, PyTorch's exp_avg.</summary>
    public float[] FirstMoment { get; }

    /// <summary>v, PyTorch's exp_avg_sq.</summary>
    public float[] SecondMoment { get; }

    /// <summary>Restores the state of a saved optimizer for an exact resume.</summary>
    public void Restore(long step, ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment)
    {
        if (step < 0 || firstMoment.Length != FirstMoment.Length || secondMoment.Length != SecondMoment.Length)
            throw new SmnistException($"the optimizer state does not fit a model of {FirstMoment.Length} parameters");
        Step = step;
        firstMoment.CopyTo(FirstMoment);
        secondMoment.CopyTo(SecondMoment);
    }

    public void Update(Span<float> parameters, ReadOnlySpan<float> gradient, float learningRate)
    {
        if (parameters.Length != FirstMoment.Length || gradient.Length != FirstMoment.Length)
            throw new ArgumentException($"Adam was sized for {FirstMoment.Length} parameters");
        Step++;
        (float beta1, float beta2, float epsilon, float weightDecay) = Settings;
        // PyTorch computes the bias corrections as Python floats (double) and applies them as float scalars.
        float stepSize = (float)(learningRate / (1 - Math.Pow(beta1, Step)));
        float correction2Sqrt = (float)Math.Sqrt(1 - Math.Pow(beta2, Step));
        float decay = 1 - learningRate * weightDecay;
        float keep1 = 1 - beta1, keep2 = 1 - beta2;
        Span<float> m = FirstMoment, v = SecondMoment;

        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; k <= parameters.Length - Vector<float>.Count; k += Vector<float>.Count)
            {
                var g = new Vector<float>(gradient[k..]);
                var p = new Vector<float>(parameters[k..]);
                if (weightDecay != 0f) p *= decay;
                var mk = new Vector<float>(m[k..]) * beta1 + g * keep1;
                var vk = new Vector<float>(v[k..]) * beta2 + g * g * keep2;
                mk.CopyTo(m[k..]);
                vk.CopyTo(v[k..]);
                (p - stepSize * mk / (Vector.SquareRoot(vk) / correction2Sqrt + new Vector<float>(epsilon))).CopyTo(parameters[k..]);
            }
        }
        for (; k < parameters.Length; k++)
        {
            float g = gradient[k];
            float p = weightDecay != 0f ? parameters[k] * decay : parameters[k];
            m[k] = m[k] * beta1 + g * keep1;
            v[k] = v[k] * beta2 + g * g * keep2;
            parameters[k] = p - stepSize * m[k] / (MathF.Sqrt(v[k]) / correction2Sqrt + epsilon);
        }
    }
}
