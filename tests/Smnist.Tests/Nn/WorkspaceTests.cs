using System.Reflection;
using Smnist.Nn;

namespace Smnist.Tests.Nn;

[Trait("Category", "unit")]
public class WorkspaceTests
{
    /// <summary>The memory budget counts every buffer the workspace allocates, found here by reflection, not by a list.</summary>
    [Theory]
    [InlineData(28, 16, 1, 28, 32)]
    [InlineData(1, 128, 1, 784, 16)]
    [InlineData(5, 7, 3, 9, 3)]
    public void ValuesCountsEveryBufferTheWorkspaceAllocates(int inputSize, int hidden, int layers, int steps, int batch)
    {
        var config = new ModelConfig(inputSize, hidden, layers);
        var workspace = new Workspace<float>(config, steps, batch);
        long allocated = 0;
        foreach (object? value in Fields(workspace).Concat(Fields(workspace.Steps)))
        {
            allocated += value switch
            {
                ArraySegment<float> buffer => buffer.Array?.Length ?? 0,
                ArraySegment<float>[] perLayer => perLayer.Sum(buffer => (long)(buffer.Array?.Length ?? 0)),
                int[] integers => integers.Length,
                _ => 0,
            };
        }
        Assert.Equal(allocated, Workspace<float>.Values(config, steps, batch));
    }

    [Fact]
    public void AForwardOnlyWorkspaceLeavesOutTheBackwardBuffersAndRefusesABackwardPass()
    {
        var config = new ModelConfig(28, 16);
        var model = SequenceClassifier<float>.Initialize(config, seed: 1);
        var full = new Workspace<float>(config, 28, 4);
        var forwardOnly = new Workspace<float>(config, 28, 4, gradients: false);
        Assert.True(full.HasGradients);
        Assert.False(forwardOnly.HasGradients);
        Assert.Equal(0, forwardOnly.WeightGradTransposed.Count + forwardOnly.PreActivationGrad.Count + forwardOnly.OutputGrad.Count + forwardOnly.LogitsGrad.Count);
        Assert.Equal(4 * (16 + 28), forwardOnly.ChunkInputs.Count); // one step's z_t, not a chunk's

        var random = new Random(3);
        float[] inputs = Enumerable.Range(0, 28 * 4 * 28).Select(_ => random.NextSingle()).ToArray(); // (T, B, d)
        foreach (Workspace<float> workspace in new[] { full, forwardOnly })
        {
            inputs.CopyTo(workspace.Inputs.AsSpan());
            model.Forward(workspace, batch: 4);
        }
        Assert.Equal(full.Logits.AsSpan(0, 40).ToArray(), forwardOnly.Logits.AsSpan(0, 40).ToArray());
        Assert.Throws<ArgumentException>(() => model.Backward(forwardOnly, [0, 1, 2, 3], 0.25f, new float[model.Layout.Count]));
    }

    private static IEnumerable<object?> Fields(object owner) =>
        owner.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).Select(field => field.GetValue(owner));
}
