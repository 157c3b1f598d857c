using Smnist.Data;

namespace Smnist.Tests.Training;

/// <summary>
/// Random sequences of lengths 1..<paramref name="maxSteps"/> drawn from <paramref name="seed"/>, with one label per
/// sequence or per step (every fourth step unlabelled). Steps beyond a length are written as
/// <paramref name="padding"/>: the contract's zero, or a value that would show if the engine ever read it.
/// </summary>
internal sealed class RaggedSource(int count, int maxSteps, int features, int classes, bool labelsPerStep, ulong seed, float padding = 0f, int minLength = 1)
    : ISequenceSource
{
    private readonly int[] _lengths = Integers(count, seed, 1, minLength, maxSteps - minLength + 1, unlabelled: false);
    private readonly float[] _values = Values(count * maxSteps * features, seed);
    private readonly int[] _labels = Integers(count * (labelsPerStep ? maxSteps : 1), seed, 3, 0, classes, unlabelled: labelsPerStep);

    public int Count => count;

    public int Steps => maxSteps;

    public int Features => features;

    public int Classes => classes;

    public bool LabelsPerStep => labelsPerStep;

    public int LengthOf(int example) => _lengths[example];

    /// <summary>(length, d) the real steps of example <paramref name="example"/>.</summary>
    public float[] Sequence(int example) => _values.AsSpan(example * maxSteps * features, _lengths[example] * features).ToArray();

    /// <summary>The class of <paramref name="example"/>, or of its step <paramref name="t"/> with per-step labels.</summary>
    public int Label(int example, int t = 0) => _labels[labelsPerStep ? example * maxSteps + t : example];

    public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
    {
        int batch = examples.Length;
        for (int b = 0; b < batch; b++)
        {
            int example = examples[b];
            if (!labelsPerStep)
                labels[b] = _labels[example];
            for (int t = 0; t < maxSteps; t++)
            {
                bool real = t < _lengths[example];
                Span<float> step = inputs.Slice((t * batch + b) * features, features);
                if (real)
                    _values.AsSpan((example * maxSteps + t) * features, features).CopyTo(step);
                else
                    step.Fill(padding);
                if (labelsPerStep)
                    labels[t * batch + b] = real ? _labels[example * maxSteps + t] : SequenceLabels.None;
            }
        }
    }

    /// <summary>Integers in from..from + range − 1; with <paramref name="unlabelled"/>, about a quarter are <see cref="SequenceLabels.None"/>.</summary>
    private static int[] Integers(int length, ulong seed, ulong stream, int from, int range, bool unlabelled)
    {
        var random = DeterministicRandom.For(seed, RandomStreams.Synthetic, stream);
        var values = new int[length];
        for (int k = 0; k < length; k++)
        {
            ulong draw = random.NextUInt64();
            values[k] = unlabelled && draw % 4 == 0 ? SequenceLabels.None : from + (int)(draw / 4 % (ulong)range);
        }
        return values;
    }

    private static float[] Values(int length, ulong seed)
    {
        var random = DeterministicRandom.For(seed, RandomStreams.Synthetic, 2);
        var values = new float[length];
        for (int k = 0; k < length; k++)
            values[k] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
