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
    /// GFLOP/s per core with <paramref name="threads"/> threads running the chains at once: each thread runs them for
    /// <paramref name="seconds"/>, the threads' speeds are averaged, and the best of <paramref name="repeats"/> rounds
    /// is kept (a core busy with something else only lowers a round).
    /// </summary>
    public static double MeasureGflopsPerCore(int threads, double seconds = 0.15, int repeats = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        double best = 0;
        for (int round = 0; round < repeats; round++)
        {
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
            best = Math.Max(best, speeds.Average());
        }
        return best;
    }

    private static double TimedGflops(Barrier start, double seconds)
    {
        const int Iterations = 20_000; // about 0.1 ms a batch, so the clock is read rarely
        Run(Iterations); // compiled before the clock starts
        start.SignalAndWait();
        long batches = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            Run(Iterations);
            batches++;
        }
        return batches * Iterations * FlopsPerIteration / clock.Elapsed.TotalSeconds / 1e9;
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
