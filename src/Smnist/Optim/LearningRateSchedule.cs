namespace Smnist.Optim;

/// <summary>How the learning rate changes over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The base rate throughout, as the notebook has it.</summary>
    Constant,

    /// <summary>Cosine decay from the base rate to zero over the whole run, per step (CosineAnnealingLR, T_max = all steps).</summary>
    Cosine,
}

internal static class LearningRateSchedules
{
    /// <summary>The rate for update number <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static float At(LearningRateSchedule schedule, float baseRate, long step, long totalSteps) => schedule switch
    {
        LearningRateSchedule.Constant => baseRate,
        LearningRateSchedule.Cosine => (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, totalSteps) / Math.Max(totalSteps, 1)))),
        _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, null),
    };
}
