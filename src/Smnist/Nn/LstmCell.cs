using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>One layer's activations over a batch, packed as <see cref="PackedSteps"/> lays them out.</summary>
internal readonly ref struct LayerActivations<T>(Span<T> gates, Span<T> cells, Span<T> tanhCells, Span<T> outputs)
{
    /// <summary>(rows, 4n) activated f, i (r with the refine gate), o, c̃ per row.</summary>
    public Span<T> Gates { get; } = gates;

    /// <summary>(B + rows, n) c_0 of every example, then c_t of every real step.</summary>
    public Span<T> Cells { get; } = cells;

    /// <summary>(rows, n) tanh(c_t).</summary>
    public Span<T> TanhCells { get; } = tanhCells;

    /// <summary>(B + rows, n) v_0 of every example, then v_t of every real step.</summary>
    public Span<T> Outputs { get; } = outputs;
}

/// <summary>Scratch of one layer's backward pass, reused layer after layer.</summary>
internal readonly ref struct BackwardScratch<T>(Span<T> preActivationGrad, Span<T> chunkInputs, Span<T> weightGradTransposed, Span<T> stateGrad)
{
    /// <summary>(chunk rows, 4n) gradient of the gate pre-activations of one chunk of timesteps.</summary>
    public Span<T> PreActivationGrad { get; } = preActivationGrad;

    /// <summary>(chunk rows, n+d) z_t = [v_{t-1}; x_t] of one step (forward) or one chunk of timesteps.</summary>
    public Span<T> ChunkInputs { get; } = chunkInputs;

    /// <summary>(n+d, 4n) the weight gradient as the products accumulate it.</summary>
    public Span<T> WeightGradTransposed { get; } = weightGradTransposed;

    /// <summary>(2, B, n) dL/dv and dL/dc carried back through time.</summary>
    public Span<T> StateGrad { get; } = stateGrad;
}

/// <summary>What one layer's backward pass writes: the gradients of its weight, its bias and its input.</summary>
internal readonly ref struct LayerGradients<T>(Span<T> weight, Span<T> bias, Span<T> input)
{
    /// <summary>(4n, n+d), overwritten.</summary>
    public Span<T> Weight { get; } = weight;

    /// <summary>(4n), overwritten.</summary>
    public Span<T> Bias { get; } = bias;

    /// <summary>(rows, d), overwritten; empty when the input needs no gradient.</summary>
    public Span<T> Input { get; } = input;
}

/// <summary>
/// One LSTM layer unrolled over a batch of sequences, as a forward/backward pair over flat buffers packed as
/// <see cref="PackedSteps"/> lays them out: at step t only the examples still running take part, so the cost is
/// the batch's real steps. n units, d inputs.
/// <code>
/// z_t = [v_{t-1}; x_t]        f, i, o = σ(W_{f,i,o} z_t + b)     c̃_t = tanh(W_c z_t + b_c)
/// c_t = f ⊙ c_{t-1} + i ⊙ c̃_t  v_t = o ⊙ tanh(c_t)
/// </code>
/// With the refine gate (<see cref="ModelConfig.RefineGate"/>, the UR-LSTM of Gu et al. 2020) the input gate's block
/// holds a refine gate r = σ(W_r z_t + b_r), and the input gate is tied to the effective forget gate g:
/// <code>
/// g = r ⊙ (1 − (1 − f)²) + (1 − r) ⊙ f² = f ⊙ (f + 2r ⊙ (1 − f))     c_t = g ⊙ c_{t-1} + (1 − g) ⊙ c̃_t
/// </code>
/// The weight is the (4n, n+d) stack of the four gate matrices (see <see cref="ParameterLayout"/>): each timestep's
/// pre-activations are one matrix product over z_t, with the weight packed once for all timesteps when the caller
/// provides it. Backpropagation takes the timesteps in chunks (<see cref="ChunkSteps"/>) and turns each chunk's
/// gradients into weight, bias and input gradients while they are still in cache.
/// </summary>
internal static class LstmCell
{
    /// <summary>Rows (timesteps × batch rows) of a chunk of timesteps in the backward pass.</summary>
    private const int BackwardChunkRows = 256;

    /// <summary>
    /// Runs every step from the initial state in block 0 of the activations' cells and outputs (the caller sets it:
    /// zeros, or a stream's carried state).
    /// </summary>
    public static void Forward<T>(
        KernelSet kernels,
        LayerActivations<T> activations,
        Span<T> stepInputs,     // scratch (B, n+d): z_t of the step in progress
        ReadOnlySpan<T> inputs, // (rows, d)
        ReadOnlySpan<T> weight, // (4n, n+d)
        ReadOnlySpan<T> bias,   // (4n)
        PackedSteps steps, int inputSize, int hiddenSize, bool refineGate,
        PackedMatrix? weightTransposed = null) // W transposed, (n+d, 4n), packed; float only
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hiddenSize, d = inputSize, g = 4 * n, columns = n + d;
        Span<T> gates = activations.Gates, cells = activations.Cells, tanhCells = activations.TanhCells, outputs = activations.Outputs;
        for (int t = 0; t < steps.Steps; t++)
        {
            int rows = steps.Rows(t), row = steps.Offset(t), previous = steps.StateOffset(t), next = steps.StateOffset(t + 1);
            // Each step's pre-activations as one product, (rows, n+d) · (n+d, 4n), over z_t = [v_{t-1}; x_t] gathered
            // into rows: the input part rides along the recurrent product instead of taking a pass of its own.
            for (int b = 0; b < rows; b++)
            {
                Span<T> z = stepInputs.Slice(b * columns, columns);
                outputs.Slice((previous + b) * n, n).CopyTo(z);
                inputs.Slice((row + b) * d, d).CopyTo(z[n..]);
            }
            Span<T> stepGates = gates.Slice(row * g, rows * g); // (rows, 4n)
            kernels.Linear(stepGates, g, stepInputs, columns, weight, columns, rows: rows, outFeatures: g, inFeatures: columns, weightTransposed); // (rows, 4n) = (rows, n+d) · (4n, n+d)ᵀ
            for (int b = 0; b < rows; b++)
            {
                Span<T> gateRow = stepGates.Slice(b * g, g);
                Span<T> cell = cells.Slice((next + b) * n, n), tanhCell = tanhCells.Slice((row + b) * n, n), output = outputs.Slice((next + b) * n, n);
                ReadOnlySpan<T> previousCell = cells.Slice((previous + b) * n, n);
                if (kernels.TryLstmForwardRow(gateRow, bias, previousCell, cell, tanhCell, output, refineGate))
                    continue;
                // The same arithmetic as separate passes: the reference kernels, double, and n that is not whole vectors.
                TensorPrimitives.Add(gateRow, bias, gateRow);
                kernels.Sigmoid(gateRow[..(3 * n)], gateRow[..(3 * n)]);
                kernels.Tanh(gateRow[(3 * n)..], gateRow[(3 * n)..]);
                if (refineGate)
                    RefinedCell(cell, gateRow, previousCell, n);
                else
                    Cell(cell, gateRow, previousCell, n);
                kernels.Tanh(cell, tanhCell);
                TensorPrimitives.Multiply(gateRow.Slice(2 * n, n), tanhCell, output);
            }
        }
    }

    public static void Backward<T>(
        KernelSet kernels,
        LayerGradients<T> gradients,
        BackwardScratch<T> scratch,
        ReadOnlySpan<T> outputGrad,       // (rows, n) dL/dv_t from above, for every real step
        LayerActivations<T> activations, // from Forward
        ReadOnlySpan<T> inputs,           // (rows, d)
        ReadOnlySpan<T> weight,           // (4n, n+d)
        PackedSteps steps, int inputSize, int hiddenSize, bool refineGate,
        PackedMatrix? recurrent = null)   // W's first n columns, (4n, n), packed; float only
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hiddenSize, d = inputSize, g = 4 * n, columns = n + d, batch = steps.Batch;
        ReadOnlySpan<T> gates = activations.Gates, cells = activations.Cells, tanhCells = activations.TanhCells, outputs = activations.Outputs;
        Span<T> preActivationGrad = scratch.PreActivationGrad, chunkInputs = scratch.ChunkInputs, biasGrad = gradients.Bias;
        // (B, n) dL/dv_t and dL/dc_t through their use at t+1. An example's rows stay zero until the sweep reaches
        // its last step, since the steps after it never touch them: nothing flows back from padding.
        Span<T> recurrentGrad = scratch.StateGrad[..(batch * n)];
        Span<T> cellGrad = scratch.StateGrad.Slice(batch * n, batch * n);
        recurrentGrad.Clear();
        cellGrad.Clear();
        biasGrad[..g].Clear();

        // Swept back a chunk of timesteps at a time: the chunk's pre-activation gradients, still in cache, go into the
        // weight, bias and input gradients as a few larger products before the next (earlier) chunk. The first chunk
        // swept (the latest timesteps) overwrites the weight gradient, the others add to it.
        int chunkSteps = ChunkSteps(steps.Steps, batch);
        for (int end = steps.Steps; end > 0; end -= chunkSteps)
        {
            int first = Math.Max(0, end - chunkSteps), firstRow = steps.Offset(first);
            for (int t = end - 1; t >= first; t--)
            {
                int rows = steps.Rows(t), row = steps.Offset(t), previous = steps.StateOffset(t);
                Span<T> stepGrad = preActivationGrad.Slice((row - firstRow) * g, rows * g); // (rows, 4n)
                for (int b = 0; b < rows; b++)
                {
                    Span<T> rowGrad = stepGrad.Slice(b * g, g), rowCellGrad = cellGrad.Slice(b * n, n);
                    ReadOnlySpan<T> rowOutputGrad = outputGrad.Slice((row + b) * n, n), rowRecurrentGrad = recurrentGrad.Slice(b * n, n);
                    ReadOnlySpan<T> rowGates = gates.Slice((row + b) * g, g), tanhCell = tanhCells.Slice((row + b) * n, n), previousCell = cells.Slice((previous + b) * n, n);
                    if (refineGate)
                        BackwardRefinedState(rowGrad, rowCellGrad, rowOutputGrad, rowRecurrentGrad, rowGates, tanhCell, previousCell, n);
                    else
                        BackwardState(rowGrad, rowCellGrad, rowOutputGrad, rowRecurrentGrad, rowGates, tanhCell, previousCell, n);
                }
                if (t > 0)
                    kernels.LinearInputGradient(recurrentGrad, n, stepGrad, g, weight, columns, rows: rows, inFeatures: n, outFeatures: g, recurrent); // (rows, n) = (rows, 4n) · (4n, n)
            }

            // The chunk's weight gradient as one product over its z_t gathered into rows, transposed,
            // (n+d, chunk rows) · (chunk rows, 4n): the kernel then packs the gradient rows as they lie and wastes fewer columns.
            int chunkRows = steps.Offset(end) - firstRow;
            ReadOnlySpan<T> chunkGrad = preActivationGrad[..(chunkRows * g)]; // (chunk rows, 4n)
            for (int t = first; t < end; t++)
            {
                int rows = steps.Rows(t), row = steps.Offset(t), previous = steps.StateOffset(t);
                for (int b = 0; b < rows; b++)
                {
                    Span<T> z = chunkInputs.Slice((row - firstRow + b) * columns, columns);
                    outputs.Slice((previous + b) * n, n).CopyTo(z);
                    inputs.Slice((row + b) * d, d).CopyTo(z[n..]);
                }
            }
            // Transposed, the roles swap: z_t stands in the output-gradient place and the gate gradient in the input's.
            kernels.LinearWeightGradient(scratch.WeightGradTransposed, g, chunkInputs, columns, chunkGrad, g, chunkRows, outFeatures: columns, inFeatures: g, accumulate: end < steps.Steps); // (n+d, 4n) += (chunk rows, n+d)ᵀ · (chunk rows, 4n)
            for (int r = 0; r < chunkRows; r++)
                TensorPrimitives.Add(biasGrad[..g], chunkGrad.Slice(r * g, g), biasGrad[..g]);
            if (!gradients.Input.IsEmpty)
                kernels.LinearInputGradient(gradients.Input.Slice(firstRow * d, chunkRows * d), d, chunkGrad, g, weight[n..], columns, chunkRows, inFeatures: d, outFeatures: g); // (chunk rows, d) = (chunk rows, 4n) · (4n, d)
        }
        Transpose.Run(gradients.Weight, columns, scratch.WeightGradTransposed, g, rows: columns, columns: g); // (4n, n+d) = (n+d, 4n)ᵀ
    }

    /// <summary>
    /// Timesteps the backward pass takes as one chunk for <paramref name="batch"/> rows: at most <see cref="BackwardChunkRows"/> rows of
    /// 4n gates, so that a chunk of activations or gradients stays in cache between the timestep loop and the products over it.
    /// </summary>
    public static int ChunkSteps(int steps, int batch) => Math.Clamp(BackwardChunkRows / batch, 1, steps);

    /// <summary>Rows of the largest chunk for any batch of 1 to <paramref name="maxBatch"/> rows: what the gradient scratch needs.</summary>
    internal static int MaxChunkRows(int steps, int maxBatch) => (int)Math.Min((long)steps * maxBatch, Math.Max(BackwardChunkRows, maxBatch));

    /// <summary>c_t = f ⊙ c_{t-1} + i ⊙ c̃_t of one batch row from its activated gates (f, i, o, c̃) and c_{t-1}.</summary>
    private static void Cell<T>(Span<T> cell, ReadOnlySpan<T> gates, ReadOnlySpan<T> previousCell, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(gates[..n], previousCell, cell);
        TensorPrimitives.FusedMultiplyAdd(gates.Slice(n, n), gates.Slice(3 * n, n), cell, cell);
    }

    /// <summary>c_t = c̃_t + g ⊙ (c_{t-1} − c̃_t) of one batch row from its activated gates (f, r, o, c̃) and c_{t-1}.</summary>
    private static void RefinedCell<T>(Span<T> cell, ReadOnlySpan<T> gates, ReadOnlySpan<T> previousCell, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> f = gates[..n], r = gates.Slice(n, n), c = gates.Slice(3 * n, n);
        int k = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; k <= n - Vector<T>.Count; k += Vector<T>.Count)
            {
                var vc = new Vector<T>(c[k..]);
                (vc + EffectiveGate(new Vector<T>(f[k..]), new Vector<T>(r[k..])) * (new Vector<T>(previousCell[k..]) - vc)).CopyTo(cell[k..]);
            }
        }
        for (; k < n; k++)
            cell[k] = c[k] + EffectiveGate(f[k], r[k]) * (previousCell[k] - c[k]);
    }

    /// <summary>(n) the effective forget gate g = f ⊙ (f + 2r ⊙ (1 − f)) of a UR-LSTM step from its forget and refine gates.</summary>
    internal static void EffectiveGate(ReadOnlySpan<float> forget, ReadOnlySpan<float> refine, Span<float> effective)
    {
        for (int k = 0; k < effective.Length; k++)
            effective[k] = EffectiveGate(forget[k], refine[k]);
    }

    /// <summary>g = r(1 − (1 − f)²) + (1 − r)f², as f(f + 2r(1 − f)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T EffectiveGate<T>(T f, T r) where T : unmanaged, IFloatingPointIeee754<T> =>
        f * (f + (r + r) * (T.One - f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> EffectiveGate<T>(Vector<T> f, Vector<T> r) where T : unmanaged, IFloatingPointIeee754<T> =>
        f * (f + (r + r) * (Vector<T>.One - f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> EffectiveGate<T>(Vector512<T> f, Vector512<T> r) where T : unmanaged, IFloatingPointIeee754<T> =>
        f * (f + (r + r) * (Vector512<T>.One - f));

    /// <summary>
    /// One batch row of one timestep backwards: from dL/dv_t (from above plus through time) and dL/dc_t through
    /// time, the gradients of the four pre-activations; cellGrad becomes dL/dc_{t-1} through time. On Vector512 where it
    /// is accelerated, since <see cref="Vector{T}"/> stays 256 bits wide there; each lane's arithmetic is the same.
    /// </summary>
    private static void BackwardState<T>(
        Span<T> preActivationGrad, Span<T> cellGrad,
        ReadOnlySpan<T> outputGrad, ReadOnlySpan<T> recurrentGrad,
        ReadOnlySpan<T> gates, ReadOnlySpan<T> tanhCell, ReadOnlySpan<T> previousCell, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> f = gates[..n], i = gates.Slice(n, n), o = gates.Slice(2 * n, n), c = gates.Slice(3 * n, n);
        Span<T> df = preActivationGrad[..n], di = preActivationGrad.Slice(n, n), dO = preActivationGrad.Slice(2 * n, n), dc = preActivationGrad.Slice(3 * n, n);
        int k = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var one = Vector512<T>.One;
            for (; k <= n - Vector512<T>.Count; k += Vector512<T>.Count)
            {
                var dv = Vector512.Create<T>(outputGrad[k..]) + Vector512.Create<T>(recurrentGrad[k..]);
                var vf = Vector512.Create<T>(f[k..]); var vi = Vector512.Create<T>(i[k..]);
                var vo = Vector512.Create<T>(o[k..]); var vc = Vector512.Create<T>(c[k..]);
                var th = Vector512.Create<T>(tanhCell[k..]);
                var dCell = Vector512.Create<T>(cellGrad[k..]) + dv * vo * (one - th * th);
                (dCell * Vector512.Create<T>(previousCell[k..]) * vf * (one - vf)).CopyTo(df[k..]);
                (dCell * vc * vi * (one - vi)).CopyTo(di[k..]);
                (dv * th * vo * (one - vo)).CopyTo(dO[k..]);
                (dCell * vi * (one - vc * vc)).CopyTo(dc[k..]);
                (dCell * vf).CopyTo(cellGrad[k..]);
            }
        }
        else if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var one = Vector<T>.One;
            for (; k <= n - Vector<T>.Count; k += Vector<T>.Count)
            {
                var dv = new Vector<T>(outputGrad[k..]) + new Vector<T>(recurrentGrad[k..]);
                var vf = new Vector<T>(f[k..]); var vi = new Vector<T>(i[k..]);
                var vo = new Vector<T>(o[k..]); var vc = new Vector<T>(c[k..]);
                var th = new Vector<T>(tanhCell[k..]);
                var dCell = new Vector<T>(cellGrad[k..]) + dv * vo * (one - th * th);
                (dCell * new Vector<T>(previousCell[k..]) * vf * (one - vf)).CopyTo(df[k..]);
                (dCell * vc * vi * (one - vi)).CopyTo(di[k..]);
                (dv * th * vo * (one - vo)).CopyTo(dO[k..]);
                (dCell * vi * (one - vc * vc)).CopyTo(dc[k..]);
                (dCell * vf).CopyTo(cellGrad[k..]);
            }
        }
        for (; k < n; k++)
        {
            T dv = outputGrad[k] + recurrentGrad[k];
            T th = tanhCell[k];
            T dCell = cellGrad[k] + dv * o[k] * (T.One - th * th);
            df[k] = dCell * previousCell[k] * f[k] * (T.One - f[k]);
            di[k] = dCell * c[k] * i[k] * (T.One - i[k]);
            dO[k] = dv * th * o[k] * (T.One - o[k]);
            dc[k] = dCell * i[k] * (T.One - c[k] * c[k]);
            cellGrad[k] = dCell * f[k];
        }
    }

    /// <summary>
    /// <see cref="BackwardState"/> for a UR-LSTM step, gates (f, r, o, c̃). With d = dL/dc_t and g as in the forward pass:
    /// dL/dg = d ⊙ (c_{t-1} − c̃), ∂g/∂f = 2(r + f − 2rf), ∂g/∂r = 2f(1 − f), dL/dc̃ = d ⊙ (1 − g), dL/dc_{t-1} = d ⊙ g;
    /// each gate's pre-activation gradient then takes its activation's derivative, σ' = σ(1 − σ), tanh' = 1 − tanh².
    /// </summary>
    private static void BackwardRefinedState<T>(
        Span<T> preActivationGrad, Span<T> cellGrad,
        ReadOnlySpan<T> outputGrad, ReadOnlySpan<T> recurrentGrad,
        ReadOnlySpan<T> gates, ReadOnlySpan<T> tanhCell, ReadOnlySpan<T> previousCell, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> f = gates[..n], r = gates.Slice(n, n), o = gates.Slice(2 * n, n), c = gates.Slice(3 * n, n);
        Span<T> df = preActivationGrad[..n], dr = preActivationGrad.Slice(n, n), dO = preActivationGrad.Slice(2 * n, n), dc = preActivationGrad.Slice(3 * n, n);
        int k = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var one = Vector512<T>.One;
            for (; k <= n - Vector512<T>.Count; k += Vector512<T>.Count)
            {
                var dv = Vector512.Create<T>(outputGrad[k..]) + Vector512.Create<T>(recurrentGrad[k..]);
                var vf = Vector512.Create<T>(f[k..]); var vr = Vector512.Create<T>(r[k..]);
                var vo = Vector512.Create<T>(o[k..]); var vc = Vector512.Create<T>(c[k..]);
                var th = Vector512.Create<T>(tanhCell[k..]);
                var dCell = Vector512.Create<T>(cellGrad[k..]) + dv * vo * (one - th * th);
                var gate = EffectiveGate(vf, vr);
                var dGate = dCell * (Vector512.Create<T>(previousCell[k..]) - vc);
                var forgetSlope = vf * (one - vf);
                (dGate * (vr + vf - (vr + vr) * vf) * (forgetSlope + forgetSlope)).CopyTo(df[k..]);
                (dGate * (forgetSlope + forgetSlope) * vr * (one - vr)).CopyTo(dr[k..]);
                (dv * th * vo * (one - vo)).CopyTo(dO[k..]);
                (dCell * (one - gate) * (one - vc * vc)).CopyTo(dc[k..]);
                (dCell * gate).CopyTo(cellGrad[k..]);
            }
        }
        else if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var one = Vector<T>.One;
            for (; k <= n - Vector<T>.Count; k += Vector<T>.Count)
            {
                var dv = new Vector<T>(outputGrad[k..]) + new Vector<T>(recurrentGrad[k..]);
                var vf = new Vector<T>(f[k..]); var vr = new Vector<T>(r[k..]);
                var vo = new Vector<T>(o[k..]); var vc = new Vector<T>(c[k..]);
                var th = new Vector<T>(tanhCell[k..]);
                var dCell = new Vector<T>(cellGrad[k..]) + dv * vo * (one - th * th);
                var gate = EffectiveGate(vf, vr);
                var dGate = dCell * (new Vector<T>(previousCell[k..]) - vc);
                var forgetSlope = vf * (one - vf);
                (dGate * (vr + vf - (vr + vr) * vf) * (forgetSlope + forgetSlope)).CopyTo(df[k..]);
                (dGate * (forgetSlope + forgetSlope) * vr * (one - vr)).CopyTo(dr[k..]);
                (dv * th * vo * (one - vo)).CopyTo(dO[k..]);
                (dCell * (one - gate) * (one - vc * vc)).CopyTo(dc[k..]);
                (dCell * gate).CopyTo(cellGrad[k..]);
            }
        }
        for (; k < n; k++)
        {
            T dv = outputGrad[k] + recurrentGrad[k];
            T th = tanhCell[k];
            T dCell = cellGrad[k] + dv * o[k] * (T.One - th * th);
            T gate = EffectiveGate(f[k], r[k]);
            T dGate = dCell * (previousCell[k] - c[k]);
            T forgetSlope = f[k] * (T.One - f[k]);
            df[k] = dGate * (r[k] + f[k] - (r[k] + r[k]) * f[k]) * (forgetSlope + forgetSlope);
            dr[k] = dGate * (forgetSlope + forgetSlope) * r[k] * (T.One - r[k]);
            dO[k] = dv * th * o[k] * (T.One - o[k]);
            dc[k] = dCell * (T.One - gate) * (T.One - c[k] * c[k]);
            cellGrad[k] = dCell * gate;
        }
    }
}
