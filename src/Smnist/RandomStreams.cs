namespace Smnist;

/// <summary>Names of the independent random streams derived from one seed, so they never share draws.</summary>
internal static class RandomStreams
{
    public const ulong Permutation = 0x7065726D75746531; // "permute1"
    public const ulong Shuffle = 0x73687566666C6531;     // "shuffle1"
    public const ulong Augment = 0x6175676D656E7431;     // "augment1"
    public const ulong Initialization = 0x696E697469616C31; // "initial1"
    public const ulong Validation = 0x76616C6964617431;     // "validat1": the training examples held out for validation
    public const ulong Synthetic = 0x73796E7468657431;      // "synthet1": made-up data for benchmarks and tests
    public const ulong StrokeAugment = 0x7374726F6B657331;  // "strokes1"
    public const ulong GateInitialization = 0x67617465696E6931; // "gateini1": chrono and uniform gate biases
}
