using System.Numerics;
using System.Numerics.Tensors;
using Smnist.Kernels;

namespace Smnist.Nn;

/// <summary>
/// One LSTM layer unrolled over a whole sequence, as a forward/backward pair over flat buffers (outputs first,
/// then inputs, weights, dimensions). T steps, B batch rows, d inputs, n units; all buffers are time-major.
/// <code>
/// z_t = [v_{t-1}; x_t]        f, i, o = σ(W_{f,i,o} z_t + b)     c̃_t = tanh(W_c z_t + b_c)
/// c_t = f ⊙ c_{t-1} + i ⊙ c̃_t  v_t = o ⊙ tanh(c_t)              v_0 = c_0 = 0
/// </code>
/// The weight is the (4n, n+d) stack of the four gate matrices (see <see cref="ParameterLayout"/>): each timestep's
/// pre-activations are one matrix product over z_t, with the weight packed once for all timesteps when the caller
/// provides it. Backpropagation takes the timesteps in chunks (<see cref="ChunkSteps"/>) and turns each chunk's
/// gradients into weight, bias and input gradients while they are still in cache.
/// </summary>
internal static class LstmCell
{
    /// <summary>Rows (timesteps × batch rows) of a chunk of timesteps.</summary>
    private const int ChunkRows = 256;

    public static void Forward<T>(
        KernelSet kernels,
        Span<T> gates,          // (T, B, 4n) activated f, i, o, c̃ per row
        Span<T> cells,          // (T+1, B, n) c_0..c_T
        Span<T> tanhCells,      // (T, B, n) tanh(c_1..c_T)
        Span<T> outputs,        // (T+1, B, n) v_0..v_T
        Span<T> stepInputs,     // scratch (B, n+d): z_t of the step in progress
        ReadOnlySpan<T> inputs, // (T, B, d)
        ReadOnlySpan<T> weight, // (4n, n+d)
        ReadOnlySpan<T> bias,   // (4n)
        int steps, int batch, int inputSize, int hiddenSize,
        PackedMatrix? weightTransposed = null) // W transposed, (n+d, 4n), packed; float only
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hiddenSize, d = inputSize, g = 4 * n, columns = n + d;
        int stateBlock = batch * n, gateBlock = batch * g;
        cells[..stateBlock].Clear();
        outputs[..stateBlock].Clear();

        for (int t = 0; t < steps; t++)
        {
            // Each step's pre-activations as one product, (B, n+d) · (n+d, 4n), over z_t = [v_{t-1}; x_t] gathered
            // into rows: the input part rides along the recurrent product instead of taking a pass of its own.
            for (int b = 0; b < batch; b++)
            {
                Span<T> z = stepInputs.Slice(b * columns, columns);
                outputs.Slice(t * stateBlock + b * n, n).CopyTo(z);
                inputs.Slice((t * batch + b) * d, d).CopyTo(z[n..]);
            }
            Span<T> stepGates = gates.Slice(t * gateBlock, gateBlock); // (B, 4n)
            kernels.Linear(stepGates, g, stepInputs, columns, weight, columns, rows: batch, outFeatures: g, inFeatures: columns, weightTransposed); // (B, 4n) = (B, n+d) · (4n, n+d)ᵀ
            for (int b = 0; b < batch; b++)
            {
                Span<T> row = stepGates.Slice(b * g, g);
                TensorPrimitives.Add(row, bias, row);
                kernels.Sigmoid(row[..(3 * n)], row[..(3 * n)]);
                kernels.Tanh(row[(3 * n)..], row[(3 * n)..]);
                int state = b * n;
                UpdateState(kernels,
                    cells.Slice((t + 1) * stateBlock + state, n),
                    tanhCells.Slice(t * stateBlock + state, n),
                    outputs.Slice((t + 1) * stateBlock + state, n),
                    row, cells.Slice(t * stateBlock + state, n), n);
            }
        }
    }

    public static void Backward<T>(
        KernelSet kernels,
        Span<T> weightGrad,             // (4n, n+d), overwritten
        Span<T> biasGrad,               // (4n), overwritten
        Span<T> inputGrad,              // (T, B, d), overwritten; empty when the input needs no gradient
        Span<T> preActivationGrad,      // scratch (ChunkSteps(T, B), B, 4n): one chunk of timesteps
        Span<T> chunkInputs,            // scratch (ChunkSteps(T, B), B, n+d): z_t = [v_{t-1}; x_t] of one chunk
        Span<T> weightGradTransposed,   // scratch (n+d, 4n)
        Span<T> stateGrad,              // scratch (2, B, n)
        ReadOnlySpan<T> outputGrad,     // (T, B, n) dL/dv_1..dL/dv_T from above
        ReadOnlySpan<T> gates,          // (T, B, 4n) from Forward
        ReadOnlySpan<T> cells,          // (T+1, B, n)
        ReadOnlySpan<T> tanhCells,      // (T, B, n)
        ReadOnlySpan<T> outputs,        // (T+1, B, n)
        ReadOnlySpan<T> inputs,         // (T, B, d)
        ReadOnlySpan<T> weight,         // (4n, n+d)
        int steps, int batch, int inputSize, int hiddenSize,
        PackedMatrix? recurrent = null) // W's first n columns, (4n, n), packed; float only
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hiddenSize, d = inputSize, g = 4 * n, columns = n + d;
        int stateBlock = batch * n, gateBlock = batch * g;
        Span<T> recurrentGrad = stateGrad[..stateBlock];                 // (B, n) dL/dv_t through v_t's use at t+1
        Span<T> cellGrad = stateGrad.Slice(stateBlock, stateBlock);      // (B, n) dL/dc_t through c_t's use at t+1
        recurrentGrad.Clear();
        cellGrad.Clear();
        biasGrad[..g].Clear();

        // Swept back a chunk of timesteps at a time: the chunk's pre-activation gradients, still in cache, go into the
        // weight, bias and input gradients as a few larger products before the next (earlier) chunk. The first chunk
        // swept (the latest timesteps) overwrites the weight gradient, the others add to it.
        int chunkSteps = ChunkSteps(steps, batch);
        for (int end = steps; end > 0; end -= chunkSteps)
        {
            int first = Math.Max(0, end - chunkSteps);
            for (int t = end - 1; t >= first; t--)
            {
                Span<T> stepGrad = preActivationGrad.Slice((t - first) * gateBlock, gateBlock); // (B, 4n)
                for (int b = 0; b < batch; b++)
                {
                    int state = b * n;
                    BackwardState(
                        stepGrad.Slice(b * g, g),
                        cellGrad.Slice(state, n),
                        outputGrad.Slice(t * stateBlock + state, n),
                        recurrentGrad.Slice(state, n),
                        gates.Slice(t * gateBlock + b * g, g),
                        tanhCells.Slice(t * stateBlock + state, n),
                        cells.Slice(t * stateBlock + state, n), n);
                }
                if (t > 0)
                    kernels.LinearInputGradient(recurrentGrad, n, stepGrad, g, weight, columns, rows: batch, inFeatures: n, outFeatures: g, recurrent); // (B, n) = (B, 4n) · (4n, n)
            }

            // The chunk's weight gradient as one product over its z_t gathered into rows, transposed,
            // (n+d, chunk·B) · (chunk·B, 4n): the kernel then packs the gradient rows as they lie and wastes fewer columns.
            int rows = (end - first) * batch;
            ReadOnlySpan<T> chunkGrad = preActivationGrad[..(rows * g)]; // (chunk·B, 4n)
            for (int r = 0; r < rows; r++)
            {
                Span<T> z = chunkInputs.Slice(r * columns, columns);
                outputs.Slice(first * stateBlock + r * n, n).CopyTo(z);
                inputs.Slice((first * batch + r) * d, d).CopyTo(z[n..]);
            }
            // Transposed, the roles swap: z_t stands in the output-gradient place and the gate gradient in the input's.
            kernels.LinearWeightGradient(weightGradTransposed, g, chunkInputs, columns, chunkGrad, g, rows, outFeatures: columns, inFeatures: g, accumulate: end < steps); // (n+d, 4n) += (chunk·B, n+d)ᵀ · (chunk·B, 4n)
            for (int r = 0; r < rows; r++)
                TensorPrimitives.Add(biasGrad[..g], chunkGrad.Slice(r * g, g), biasGrad[..g]);
            if (!inputGrad.IsEmpty)
                kernels.LinearInputGradient(inputGrad.Slice(first * batch * d, rows * d), d, chunkGrad, g, weight[n..], columns, rows, inFeatures: d, outFeatures: g); // (chunk·B, d) = (chunk·B, 4n) · (4n, d)
        }
        for (int r = 0; r < g; r++)
        {
            for (int c = 0; c < columns; c++)
                weightGrad[r * columns + c] = weightGradTransposed[c * g + r];
        }
    }

    /// <summary>
    /// Timesteps the passes take as one chunk for <paramref name="batch"/> rows: about <see cref="ChunkRows"/> rows of
    /// 4n gates, so that a chunk of activations or gradients stays in cache between the timestep loop and the products over it.
    /// </summary>
    public static int ChunkSteps(int steps, int batch) => Math.Clamp(ChunkRows / batch, 1, steps);

    /// <summary>Rows of the largest chunk for any batch of 1 to <paramref name="maxBatch"/> rows: what the gradient scratch needs.</summary>
    internal static int MaxChunkRows(int steps, int maxBatch) => (int)Math.Min((long)steps * maxBatch, Math.Max(ChunkRows, maxBatch));

    /// <summary>c_t, tanh(c_t) and v_t of one batch row from its activated gates and c_{t-1}.</summary>
    private static void UpdateState<T>(KernelSet kernels, Span<T> cell, Span<T> tanhCell, Span<T> output, ReadOnlySpan<T> gates, ReadOnlySpan<T> previousCell, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> forget = gates[..n], input = gates.Slice(n, n), candidate = gates.Slice(3 * n, n);
        TensorPrimitives.Multiply(forget, previousCell, cell);
        TensorPrimitives.FusedMultiplyAdd(input, candidate, cell, cell);
        kernels.Tanh(cell, tanhCell);
        TensorPrimitives.Multiply(gates.Slice(2 * n, n), tanhCell, output);
    }

    /// <summary>
    /// One batch row of one timestep backwards: from dL/dv_t (from above plus through time) and dL/dc_t through
    /// time, the gradients of the four pre-activations; cellGrad becomes dL/dc_{t-1} through time.
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
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
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
}
