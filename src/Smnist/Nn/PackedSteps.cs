namespace Smnist.Nn;

/// <summary>
/// Where each timestep's rows lie in a batch of sequences of different lengths, laid out as PyTorch's
/// PackedSequence: the examples are sorted by descending length, so the <see cref="Rows"/>(t) examples still running
/// at step t are the first ones, and the steps' rows follow one another with no padding — step t's rows start at row
/// <see cref="Offset"/>(t). Every per-step buffer of a pass ((rows, 4n) gates, (rows, d) inputs, …) uses this layout;
/// a batch of equal lengths is the plain time-major (T, B) one. Sized once; <see cref="Set"/> allocates nothing.
/// </summary>
internal sealed class PackedSteps
{
    private readonly int[] _lengths; // (B) each example's length, descending
    private readonly int[] _offsets; // (T+1) first row of step t; the last entry is the total

    public PackedSteps(int maxSteps, int maxBatch)
    {
        MaxSteps = maxSteps;
        _lengths = new int[maxBatch];
        _offsets = new int[maxSteps + 1];
    }

    /// <summary>Integers the buffers hold, for the memory budget.</summary>
    public static long Values(int maxSteps, int maxBatch) => (long)maxBatch + maxSteps + 1;

    public int MaxSteps { get; }

    /// <summary>Examples in the batch, B.</summary>
    public int Batch { get; private set; }

    /// <summary>The longest example's length: the steps the pass runs.</summary>
    public int Steps { get; private set; }

    /// <summary>Rows of every step together: the batch's real (example, step) pairs.</summary>
    public int TotalRows => _offsets[Steps];

    /// <summary>The (B) lengths, descending.</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Batch);

    /// <summary>The first row of step <paramref name="t"/> (0..Steps; Offset(Steps) is <see cref="TotalRows"/>).</summary>
    public int Offset(int t) => _offsets[t];

    /// <summary>Examples still running at step <paramref name="t"/> (0-based): the first Rows(t) of the batch.</summary>
    public int Rows(int t) => _offsets[t + 1] - _offsets[t];

    /// <summary>
    /// The first row of state block <paramref name="k"/> (0..Steps) in a (B + rows, n) state buffer: block 0 holds
    /// every example's initial state, block k ≥ 1 the states after step k − 1 of the examples that ran it.
    /// </summary>
    public int StateOffset(int k) => k == 0 ? 0 : Batch + _offsets[k - 1];

    /// <summary>The row of example <paramref name="example"/>'s last step.</summary>
    public int LastRow(int example) => _offsets[_lengths[example] - 1] + example;

    /// <summary>Lays out a batch of <paramref name="batch"/> examples that all run <paramref name="steps"/> steps.</summary>
    public void SetFull(int batch, int steps)
    {
        Check(batch);
        if (steps < 1 || steps > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"the buffers hold 1 to {MaxSteps} steps");
        _lengths.AsSpan(0, batch).Fill(steps);
        Layout(batch);
    }

    /// <summary>Lays out a batch of the given lengths, which must be descending, each 1..MaxSteps.</summary>
    public void Set(ReadOnlySpan<int> lengths)
    {
        Check(lengths.Length);
        for (int b = 0; b < lengths.Length; b++)
        {
            if (lengths[b] < 1 || lengths[b] > MaxSteps)
                throw new ArgumentException($"example {b} has length {lengths[b]}; lengths run from 1 to {MaxSteps}", nameof(lengths));
            if (b > 0 && lengths[b] > lengths[b - 1])
                throw new ArgumentException("a batch's examples must be sorted by descending length", nameof(lengths));
        }
        lengths.CopyTo(_lengths);
        Layout(lengths.Length);
    }

    private void Check(int batch)
    {
        if (batch < 1 || batch > _lengths.Length)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"the buffers hold batches of 1 to {_lengths.Length}");
    }

    private void Layout(int batch)
    {
        Batch = batch;
        Steps = _lengths[0];
        int running = batch;
        for (int t = 0; t < Steps; t++)
        {
            while (_lengths[running - 1] <= t)
                running--;
            _offsets[t + 1] = _offsets[t] + running;
        }
    }
}
