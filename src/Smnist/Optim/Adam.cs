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
        Apply(NextStep(learningRate), parameters, gradient, start: 0);
    }

    /// <summary>
    /// Counts one more update and returns its factors, for <see cref="Apply"/> to take it on the parameters in parts
    /// (on several threads at once).
    /// </summary>
    internal AdamStep NextStep(float learningRate)
    {
        Step++;
        // PyTorch computes the bias corrections as Python floats (double) and applies them as float scalars.
        return new AdamStep(
            StepSize: (float)(learningRate / (1 - Math.Pow(Settings.Beta1, Step))),
            Correction2Sqrt: (float)Math.Sqrt(1 - Math.Pow(Settings.Beta2, Step)),
            Decay: 1 - learningRate * Settings.WeightDecay);
    }

    /// <summary>
    /// Takes <paramref name="step"/> on the parameters [<paramref name="start"/>, start + parameters.Length), with
    /// their <paramref name="gradient"/>. Each element's result depends on that element alone, and in parts whose bounds
    /// are multiples of 16 (or the end) every element goes through the same vector or scalar code as in one pass over
    /// all (<see cref="Vector{T}"/> holds at most 16 floats), so updating in such parts gives the same bits.
    /// </summary>
    internal void Apply(in AdamStep step, Span<float> parameters, ReadOnlySpan<float> gradient, int start)
    {
        (float beta1, float beta2, float epsilon, float weightDecay) = Settings;
        (float stepSize, float correction2Sqrt, float decay) = step;
        float keep1 = 1 - beta1, keep2 = 1 - beta2;
        Span<float> m = FirstMoment.AsSpan(start, parameters.Length), v = SecondMoment.AsSpan(start, parameters.Length);

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

/// <summary>The factors of one Adam update, the same for every parameter: see <see cref="Adam"/>.</summary>
internal readonly record struct AdamStep(float StepSize, float Correction2Sqrt, float Decay);
