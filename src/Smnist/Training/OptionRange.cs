using System.Numerics;

namespace Smnist.Training;

/// <summary>The values a training option accepts, <paramref name="Min"/> to <paramref name="Max"/> inclusive.</summary>
/// <typeparam name="T">The option's number type.</typeparam>
/// <param name="Min">The smallest accepted value.</param>
/// <param name="Max">The largest accepted value.</param>
public readonly record struct OptionRange<T>(T Min, T Max) where T : struct, INumber<T>
{
    /// <summary>Whether <paramref name="value"/> is in the range (NaN never is).</summary>
    public bool Contains(T value) => value >= Min && value <= Max;
}

/// <summary>
/// The accepted range of every numeric <see cref="TrainingOptions"/> value: <see cref="TrainingOptions.Validate"/>
/// checks them and the command line parses and documents its options with them, so each is defined once.
/// </summary>
public static class TrainingLimits
{
    /// <summary><see cref="TrainingOptions.Epochs"/>.</summary>
    public static OptionRange<int> Epochs { get; } = new(1, 10_000);

    /// <summary><see cref="TrainingOptions.BatchSize"/>.</summary>
    public static OptionRange<int> BatchSize { get; } = new(1, 65_536);

    /// <summary><see cref="TrainingOptions.Hidden"/>; within the sizes a model file may hold (<see cref="Nn.ModelConfig.Validate"/>).</summary>
    public static OptionRange<int> Hidden { get; } = new(1, 4096);

    /// <summary><see cref="TrainingOptions.Layers"/>.</summary>
    public static OptionRange<int> Layers { get; } = new(1, 16);

    /// <summary><see cref="TrainingOptions.LearningRate"/>.</summary>
    public static OptionRange<float> LearningRate { get; } = new(1e-8f, 10f);

    /// <summary><see cref="TrainingOptions.ForgetBias"/>.</summary>
    public static OptionRange<float> ForgetBias { get; } = new(-100f, 100f);

    /// <summary><see cref="TrainingOptions.InputBias"/>.</summary>
    public static OptionRange<float> InputBias { get; } = new(-100f, 100f);

    /// <summary><see cref="TrainingOptions.ClipNorm"/>.</summary>
    public static OptionRange<float> ClipNorm { get; } = new(1e-6f, 1e6f);

    /// <summary><see cref="TrainingOptions.WeightDecay"/>.</summary>
    public static OptionRange<float> WeightDecay { get; } = new(0f, 1f);

    /// <summary><see cref="TrainingOptions.Threads"/> (0: one per processor).</summary>
    public static OptionRange<int> Threads { get; } = new(0, 256);

    /// <summary><see cref="TrainingOptions.MaxSteps"/>.</summary>
    public static OptionRange<long> MaxSteps { get; } = new(1, long.MaxValue);

    /// <summary><see cref="TrainingOptions.LimitTrain"/> and <see cref="TrainingOptions.LimitTest"/>.</summary>
    public static OptionRange<int> Limit { get; } = new(1, int.MaxValue);

    /// <summary><see cref="TrainingOptions.Validation"/>: examples held out (at least one must be left to train on).</summary>
    public static OptionRange<int> Validation { get; } = new(1, int.MaxValue);

    /// <summary><see cref="TrainingOptions.Patience"/>, in epochs.</summary>
    public static OptionRange<int> Patience { get; } = new(1, 10_000);
}
