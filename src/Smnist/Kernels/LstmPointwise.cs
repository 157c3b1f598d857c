using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Smnist.Kernels;

/// <summary>
/// The element-wise work of one LSTM forward step on one batch row, in a single pass over its n units: the bias
/// add, the gates' activations, the cell update, tanh(c_t) and v_t = o ⊙ tanh(c_t), where separate passes sweep the
/// row's 4n gates and its n-wide states six times. Each lane takes exactly the arithmetic of the separate passes
/// (LstmCell's: an add, <see cref="Activations"/>' sigmoid and tanh, a multiply and a fused multiply-add), so the
/// results are the same bits. Vector512 where accelerated, as <see cref="Activations"/> chooses, otherwise
/// <see cref="Vector{T}"/>; n must be a multiple of <see cref="Lanes"/> (<see cref="Fits"/>).
/// </summary>
internal static class LstmPointwise
{
    /// <summary>Floats per vector of the pass.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count;

    /// <summary>Whether a row of <paramref name="hiddenSize"/> units is whole vectors, as <see cref="Forward"/> needs.</summary>
    public static bool Fits(int hiddenSize) => hiddenSize % Lanes == 0;

    /// <summary>
    /// gates (4n): the pre-activations of f, i (r with the refine gate), o, c̃ without their bias in, activated out.
    /// cell, tanhCell, output (n) ← c_t, tanh(c_t), v_t from c_{t-1} (<paramref name="previousCell"/>): c_t = f ⊙ c_{t-1} + i ⊙ c̃,
    /// or with <paramref name="refineGate"/> c̃ + g ⊙ (c_{t-1} − c̃), g = f ⊙ (f + 2r ⊙ (1 − f)).
    /// </summary>
    public static void Forward(Span<float> gates, ReadOnlySpan<float> bias, ReadOnlySpan<float> previousCell,
                               Span<float> cell, Span<float> tanhCell, Span<float> output, bool refineGate)
    {
        int n = cell.Length;
        if (!Fits(n) || gates.Length != 4 * n || bias.Length != 4 * n || previousCell.Length != n || tanhCell.Length != n || output.Length != n)
            throw new ArgumentException($"a fused row needs 4n gates and biases and n-wide states, n a multiple of {Lanes}, not n = {n}", nameof(cell));
        ref float gate = ref MemoryMarshal.GetReference(gates);
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float previous = ref MemoryMarshal.GetReference(previousCell);
        ref float c = ref MemoryMarshal.GetReference(cell);
        ref float th = ref MemoryMarshal.GetReference(tanhCell);
        ref float v = ref MemoryMarshal.GetReference(output);
        nuint units = (nuint)n;
        if (Vector512.IsHardwareAccelerated)
        {
            for (nuint k = 0; k < units; k += (nuint)Vector512<float>.Count)
            {
                nuint f = k, i = units + k, o = 2 * units + k, candidate = 3 * units + k;
                Vector512<float> vf = Activations.SigmoidFunction.Apply(Vector512.LoadUnsafe(ref gate, f) + Vector512.LoadUnsafe(ref b, f));
                Vector512<float> vi = Activations.SigmoidFunction.Apply(Vector512.LoadUnsafe(ref gate, i) + Vector512.LoadUnsafe(ref b, i));
                Vector512<float> vo = Activations.SigmoidFunction.Apply(Vector512.LoadUnsafe(ref gate, o) + Vector512.LoadUnsafe(ref b, o));
                Vector512<float> vc = Activations.TanhFunction.Apply(Vector512.LoadUnsafe(ref gate, candidate) + Vector512.LoadUnsafe(ref b, candidate));
                vf.StoreUnsafe(ref gate, f);
                vi.StoreUnsafe(ref gate, i);
                vo.StoreUnsafe(ref gate, o);
                vc.StoreUnsafe(ref gate, candidate);
                Vector512<float> cPrevious = Vector512.LoadUnsafe(ref previous, k);
                Vector512<float> cNext = refineGate
                    ? vc + vf * (vf + (vi + vi) * (Vector512<float>.One - vf)) * (cPrevious - vc)
                    : Vector512.FusedMultiplyAdd(vi, vc, vf * cPrevious);
                cNext.StoreUnsafe(ref c, k);
                Vector512<float> tanhNext = Activations.TanhFunction.Apply(cNext);
                tanhNext.StoreUnsafe(ref th, k);
                (vo * tanhNext).StoreUnsafe(ref v, k);
            }
            return;
        }
        for (nuint k = 0; k < units; k += (nuint)Vector<float>.Count)
        {
            nuint f = k, i = units + k, o = 2 * units + k, candidate = 3 * units + k;
            Vector<float> vf = Activations.SigmoidFunction.Apply(Vector.LoadUnsafe(ref gate, f) + Vector.LoadUnsafe(ref b, f));
            Vector<float> vi = Activations.SigmoidFunction.Apply(Vector.LoadUnsafe(ref gate, i) + Vector.LoadUnsafe(ref b, i));
            Vector<float> vo = Activations.SigmoidFunction.Apply(Vector.LoadUnsafe(ref gate, o) + Vector.LoadUnsafe(ref b, o));
            Vector<float> vc = Activations.TanhFunction.Apply(Vector.LoadUnsafe(ref gate, candidate) + Vector.LoadUnsafe(ref b, candidate));
            vf.StoreUnsafe(ref gate, f);
            vi.StoreUnsafe(ref gate, i);
            vo.StoreUnsafe(ref gate, o);
            vc.StoreUnsafe(ref gate, candidate);
            Vector<float> cPrevious = Vector.LoadUnsafe(ref previous, k);
            Vector<float> cNext = refineGate
                ? vc + vf * (vf + (vi + vi) * (Vector<float>.One - vf)) * (cPrevious - vc)
                : Vector.FusedMultiplyAdd(vi, vc, vf * cPrevious);
            cNext.StoreUnsafe(ref c, k);
            Vector<float> tanhNext = Activations.TanhFunction.Apply(cNext);
            tanhNext.StoreUnsafe(ref th, k);
            (vo * tanhNext).StoreUnsafe(ref v, k);
        }
    }
}
