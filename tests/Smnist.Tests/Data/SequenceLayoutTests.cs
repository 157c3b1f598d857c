using Smnist.Data;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
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

    [Theory]
    [InlineData(SequenceView.Rows)]
    [InlineData(SequenceView.Pixels)]
    [InlineData(SequenceView.Permuted)]
    public void Pack_writes_each_image_time_major_where_PixelAt_says(SequenceView view)
    {
        SequenceLayout layout = SequenceLayout.Create(view, permutationSeed: 11);
        const int size = 3;
        byte[] images = new byte[size * ImageSet.Pixels];
        new Random(4).NextBytes(images);
        float[] inputs = new float[size * ImageSet.Pixels];

        layout.Pack(images, size, inputs);

        for (int t = 0; t < layout.Steps; t++)
        {
            for (int b = 0; b < size; b++)
            {
                for (int f = 0; f < layout.Features; f++)
                {
                    byte pixel = images[b * ImageSet.Pixels + layout.PixelAt(t * layout.Features + f)];
                    Assert.Equal(pixel / 255f, inputs[(t * size + b) * layout.Features + f]);
                }
            }
        }
        Assert.Throws<ArgumentException>(() => layout.Pack(images.AsSpan(1), size, inputs));
    }

    [Fact]
    public void Every_reader_of_images_refuses_a_custom_view_with_the_same_line()
    {
        SequenceLayout custom = SequenceLayout.Custom(steps: 5, features: 3);
        var model = Smnist.Nn.SequenceClassifier<float>.Initialize(new Smnist.Nn.ModelConfig(3, HiddenSize: 4), seed: 1);
        string[] messages =
        [
            Assert.Throws<SmnistException>(() => new MnistSource(new ImageSet(new byte[ImageSet.Pixels], [1]), custom)).Message,
            Assert.Throws<SmnistException>(() => Smnist.Training.Predictor.Probabilities(model, custom, new byte[ImageSet.Pixels])).Message,
            Assert.Throws<SmnistException>(() => new Smnist.Training.ReadingTrace(model, custom)).Message,
        ];
        Assert.All(messages, message => Assert.Equal("the model reads its own sequences of 5 × 3 values, not images", message));
    }
}
