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

    private static IEnumerable<object?> Fields(object owner) =>
        owner.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).Select(field => field.GetValue(owner));
}
