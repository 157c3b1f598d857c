using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Smnist.Kernels;

/// <summary>
/// The core's fp32 multiply-add ceiling: <see cref="Chains"/> independent fused multiply-add chains on registers
/// alone (no memory), at the widest accelerated vector width (512 bits, else 256 with FMA, else 128). Twelve chains
/// cover the FMA latency times the issue ports of current cores, so the chains, not their dependencies, set the pace.
/// </summary>
internal static class FmaPeak
{
    public const int Chains = 12;

    /// <summary>Lanes of the vector width <see cref="Run"/> uses.</summary>
    public static int Lanes =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? Vector256<float>.Count
        : Vector128<float>.Count;

    /// <summary>Floating-point operations of one <see cref="Run"/> iteration: 2 per lane per multiply-add.</summary>
    public static double FlopsPerIteration => 2.0 * Chains * Lanes;

    /// <summary>Runs <paramref name="iterations"/> rounds of the chains; the sum returned, from a call never inlined, keeps the JIT from dropping them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Run(int iterations) =>
        Vector512.IsHardwareAccelerated ? Chains512(iterations)
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? Chains256(iterations)
        : Chains128(iterations);

    /// <summary>
    /// GFLOP/s per core with <paramref name="threads"/> threads running the chains at once for
    /// <paramref name="seconds"/>, the threads' figures averaged. Each thread times its chains in batches of
    /// <see cref="BatchIterations"/> (about 35 µs at 512 bits) and reads its speed from the median batch: a batch that the
    /// scheduler cut off the core is one of thousands and moves the median by nothing, where a whole-interval figure
    /// counts the time off the core as slowness of the core. What stays is the speed a core really runs at while the
    /// probe runs (its clock, and the other hardware thread of a host core that the virtual one shares), which the
    /// timed steps see too.
    /// </summary>
    public static double MeasureGflopsPerCore(int threads, double seconds = 0.2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        var speeds = new double[threads];
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int k = 0; k < threads; k++)
        {
            int worker = k;
            workers[k] = new Thread(() => speeds[worker] = TimedGflops(start, seconds)) { IsBackground = true };
            workers[k].Start();
        }
        foreach (Thread worker in workers)
            worker.Join();
        return speeds.Average();
    }

    /// <summary>Iterations of one timed batch of <see cref="MeasureGflopsPerCore"/>: long enough that reading the clock costs nothing, short enough that few batches span a switch.</summary>
    internal const int BatchIterations = 20_000;

    private static double TimedGflops(Barrier start, double seconds)
    {
        var batchTicks = new long[(int)(seconds * 1e6 / 5) + 1]; // more batches than even a 5 µs batch allows
        Run(BatchIterations); // compiled before the clock starts
        start.SignalAndWait();
        long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        int batches = 0;
        for (long now = Stopwatch.GetTimestamp(); now < end && batches < batchTicks.Length; batches++)
        {
            Run(BatchIterations);
            long then = Stopwatch.GetTimestamp();
            batchTicks[batches] = then - now;
            now = then;
        }
        return MedianBatchGflops(batchTicks.AsSpan(0, batches), BatchIterations * FlopsPerIteration);
    }

    /// <summary>GFLOP/s of the median of batches of <paramref name="flopsPerBatch"/> that took <paramref name="batchTicks"/> Stopwatch ticks each (sorted in place).</summary>
    internal static double MedianBatchGflops(Span<long> batchTicks, double flopsPerBatch)
    {
        if (batchTicks.IsEmpty)
            throw new ArgumentException("the probe timed no batch", nameof(batchTicks));
        batchTicks.Sort();
        double seconds = (double)batchTicks[batchTicks.Length / 2] / Stopwatch.Frequency;
        return flopsPerBatch / seconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(int iterations)
    {
        Vector512<float> x = Vector512.Create(1.0001f), y = Vector512.Create(0.9999f);
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, y, x); a1 = Vector512.FusedMultiplyAdd(a1, y, x);
            a2 = Vector512.FusedMultiplyAdd(a2, y, x); a3 = Vector512.FusedMultiplyAdd(a3, y, x);
            a4 = Vector512.FusedMultiplyAdd(a4, y, x); a5 = Vector512.FusedMultiplyAdd(a5, y, x);
            a6 = Vector512.FusedMultiplyAdd(a6, y, x); a7 = Vector512.FusedMultiplyAdd(a7, y, x);
            a8 = Vector512.FusedMultiplyAdd(a8, y, x); a9 = Vector512.FusedMultiplyAdd(a9, y, x);
            a10 = Vector512.FusedMultiplyAdd(a10, y, x); a11 = Vector512.FusedMultiplyAdd(a11, y, x);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(int iterations)
    {
        Vector256<float> x = Vector256.Create(1.0001f), y = Vector256.Create(0.9999f);
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, y, x); a1 = Vector256.FusedMultiplyAdd(a1, y, x);
            a2 = Vector256.FusedMultiplyAdd(a2, y, x); a3 = Vector256.FusedMultiplyAdd(a3, y, x);
            a4 = Vector256.FusedMultiplyAdd(a4, y, x); a5 = Vector256.FusedMultiplyAdd(a5, y, x);
            a6 = Vector256.FusedMultiplyAdd(a6, y, x); a7 = Vector256.FusedMultiplyAdd(a7, y, x);
            a8 = Vector256.FusedMultiplyAdd(a8, y, x); a9 = Vector256.FusedMultiplyAdd(a9, y, x);
            a10 = Vector256.FusedMultiplyAdd(a10, y, x); a11 = Vector256.FusedMultiplyAdd(a11, y, x);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Chains128(int iterations)
    {
        Vector128<float> x = Vector128.Create(1.0001f), y = Vector128.Create(0.9999f);
        Vector128<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, y, x); a1 = Vector128.FusedMultiplyAdd(a1, y, x);
            a2 = Vector128.FusedMultiplyAdd(a2, y, x); a3 = Vector128.FusedMultiplyAdd(a3, y, x);
            a4 = Vector128.FusedMultiplyAdd(a4, y, x); a5 = Vector128.FusedMultiplyAdd(a5, y, x);
            a6 = Vector128.FusedMultiplyAdd(a6, y, x); a7 = Vector128.FusedMultiplyAdd(a7, y, x);
            a8 = Vector128.FusedMultiplyAdd(a8, y, x); a9 = Vector128.FusedMultiplyAdd(a9, y, x);
            a10 = Vector128.FusedMultiplyAdd(a10, y, x); a11 = Vector128.FusedMultiplyAdd(a11, y, x);
        }
        return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
