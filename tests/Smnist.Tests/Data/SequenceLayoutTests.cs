using Smnist.Data;

namespace Smnist.Tests.Data;

public class SequenceLayoutTests
{
    [Theory]
    [InlineData(SequenceView.Rows, 28, 28, "rows")]
    [InlineData(SequenceView.Pixels, 784, 1, "pixels")]
    [InlineData(SequenceView.Permuted, 784, 1, "permuted")]
    public void Views_have_their_shapes_and_names(SequenceView view, int steps, int features, string name)
    {
        SequenceLayout layout = SequenceLayout.Create(view, permutationSeed: 3);

        Assert.Equal(steps, layout.Steps);
        Assert.Equal(features, layout.Features);
        Assert.Equal(784, layout.Steps * layout.Features);
        Assert.Equal(name, layout.Name);
        Assert.Equal(view, SequenceLayout.Parse(name));
        Assert.Equal(view == SequenceView.Permuted, layout.Permutation is not null);
    }

    [Fact]
    public void Rows_and_pixels_read_in_reading_order()
    {
        Assert.All(Enumerable.Range(0, 784), e => Assert.Equal(e, SequenceLayout.Create(SequenceView.Rows).PixelAt(e)));
        Assert.All(Enumerable.Range(0, 784), e => Assert.Equal(e, SequenceLayout.Create(SequenceView.Pixels).PixelAt(e)));
    }

    [Fact]
    public void The_permutation_is_fixed_by_its_seed_and_recoverable()
    {
        SequenceLayout a = SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 17);
        SequenceLayout b = SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 17);
        SequenceLayout c = SequenceLayout.Create(SequenceView.Permuted, permutationSeed: 18);

        Assert.Equal(a.Permutation, b.Permutation);
        Assert.NotEqual(a.Permutation, c.Permutation);
        Assert.Equal(Enumerable.Range(0, 784), a.Permutation!.Order());
        SequenceLayout rebuilt = SequenceLayout.FromPermutation(a.Permutation!);
        Assert.Equal(SequenceView.Permuted, rebuilt.View);
        Assert.Equal(a.Permutation, rebuilt.Permutation);
        Assert.Equal(a.PixelAt(100), rebuilt.PixelAt(100));
    }

    [Fact]
    public void A_broken_permutation_or_an_unknown_name_is_a_user_error()
    {
        int[] duplicate = Enumerable.Range(0, 784).ToArray();
        duplicate[5] = 6;

        Assert.Throws<SmnistException>(() => SequenceLayout.FromPermutation(duplicate));
        Assert.Throws<SmnistException>(() => SequenceLayout.FromPermutation([0, 1, 2]));
        Assert.Throws<SmnistException>(() => SequenceLayout.FromPermutation(Enumerable.Range(1, 784).ToArray()));
        var error = Assert.Throws<SmnistException>(() => SequenceLayout.Parse("columns"));
        Assert.Contains("columns", error.Message);
        Assert.Equal(SequenceView.Pixels, SequenceLayout.Parse("Pixels"));
    }
}
