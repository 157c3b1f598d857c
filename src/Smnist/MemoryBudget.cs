using System.Globalization;

namespace Smnist;

/// <summary>
/// Refuses, before allocating, work whose memory would not fit: a configuration or a file header can ask for far
/// more than the machine has, and running out of memory part-way is a crash rather than a message.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>The memory this process may use: physical memory, or the container's limit.</summary>
    public static long AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Throws a <see cref="SmnistException"/> saying what needs <paramref name="bytes"/> when more than is available.</summary>
    public static void Require(long bytes, string what)
    {
        long available = AvailableBytes;
        if (bytes > available)
            throw new SmnistException($"{what} would need {Format(bytes)} of memory; this machine has {Format(available)} available");
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
    };
}
