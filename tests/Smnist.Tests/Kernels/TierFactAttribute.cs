namespace Smnist.Tests.Kernels;

/// <summary>A fact that runs only when SMNIST_EXPECT_TIER names the SIMD tier the process must be on, and is reported as skipped otherwise.</summary>
public sealed class TierFactAttribute : FactAttribute
{
    public TierFactAttribute()
    {
        if (string.IsNullOrEmpty(ExpectedTier))
            Skip = "SMNIST_EXPECT_TIER is not set; tools/kernel-tiers.sh sets it for each tier it runs";
    }

    public static string? ExpectedTier => Environment.GetEnvironmentVariable("SMNIST_EXPECT_TIER");
}
