namespace Smnist;

/// <summary>
/// SplitMix64: a tiny, fast generator whose whole state is one integer, so a stream for any (seed, epoch, position)
/// can be derived directly. That is what makes shuffles and augmentation independent of thread timing and lets a
/// run resume at any batch. Not System.Random, whose sequence for a seed is not promised across .NET versions.
/// </summary>
internal struct DeterministicRandom(ulong state)
{
    private ulong _state = state;

    /// <summary>A generator for the stream named by <paramref name="seed"/> and the given coordinates.</summary>
    public static DeterministicRandom For(ulong seed, ulong stream, ulong a, ulong b = 0) =>
        new(Mix(Mix(Mix(seed ^ Mix(stream)) ^ a) ^ b));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double NextDouble(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, bound), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        ulong range = (ulong)bound;
        UInt128 product = (UInt128)NextUInt64() * range;
        ulong low = (ulong)product;
        if (low < range)
        {
            ulong threshold = (0UL - range) % range;
            while (low < threshold)
            {
                product = (UInt128)NextUInt64() * range;
                low = (ulong)product;
            }
        }
        return (int)(product >> 64);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
