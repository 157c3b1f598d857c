using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Tests.Data;

[Trait("Category", "unit")]
public class BatchLoaderTests
{
    private static BatchLoader Images(ImageSet set, SequenceLayout layout, int batchSize, bool shuffle, bool augment, ulong seed) =>
        new(new MnistSource(set, layout, augment, seed), batchSize, shuffle, seed);

    /// <summary>Which examples filled each batch, in row order: read from the loader's calls to the source.</summary>
    private sealed class RecordingSource(ISequenceSource inner) : ISequenceSource
    {
        public Dictionary<BatchPosition, int[]> Examples { get; } = [];

        public int Count => inner.Count;
        public int Steps => inner.Steps;
        public int Features => inner.Features;
        public int Classes => inner.Classes;

        public void Fill(ReadOnlySpan<int> examples, BatchPosition position, Span<float> inputs, Span<int> labels)
        {
            lock (Examples)
            {
                Examples[position] = examples.ToArray();
            }
            inner.Fill(examples, position, inputs, labels);
        }

        public int[] Batch(int epoch, int firstExample)
        {
            lock (Examples)
            {
                return Examples[new BatchPosition(epoch, firstExample)];
            }
        }
    }

    [Theory]
    [InlineData(100, 32, true)]
    [InlineData(100, 32, false)]
    [InlineData(64, 32, true)]
    [InlineData(5, 32, true)]
    public void Every_index_appears_exactly_once_per_epoch(int count, int batchSize, bool shuffle)
    {
        using var loader = Images(IdxBuilder.Numbered(count), SequenceLayout.Create(SequenceView.Rows), batchSize, shuffle, augment: false, seed: 7);
        var seen = new List<int>();

        foreach (Batch batch in loader.Epoch(0))
        {
            // Image k of the numbered set has every pixel k; step 0, feature 0 of row b is at b * 28.
            for (int b = 0; b < batch.Size; b++)
            {
                seen.Add((int)MathF.Round(batch.Inputs[b * 28] * 255));
            }
        }

        Assert.Equal(Enumerable.Range(0, count), seen.Order());
        if (!shuffle)
        {
            Assert.Equal(Enumerable.Range(0, count), seen);
        }
        else if (count > 50)
        {
            Assert.NotEqual(Enumerable.Range(0, count), seen);
        }
    }

    [Fact]
    public void Last_partial_batch_is_kept_and_packed_densely()
    {
        ImageSet set = IdxBuilder.Numbered(70);
        using var loader = Images(set, SequenceLayout.Create(SequenceView.Rows), 32, shuffle: false, augment: false, seed: 0);

        var batches = loader.Epoch(0).Select(b => (b.Size, Inputs: b.InputSpan.ToArray(), Labels: b.LabelSpan.ToArray())).ToList();

        Assert.Equal(3, loader.BatchesPerEpoch);
        Assert.Equal([32, 32, 6], batches.Select(b => b.Size));
        var last = batches[2];
        Assert.Equal(28 * 6 * 28, last.Inputs.Length);
        // Time-major with stride Size: element (t, b, f) at (t * 6 + b) * 28 + f; image 64 + b has every pixel 64 + b.
        for (int t = 0; t < 28; t++)
        {
            for (int b = 0; b < 6; b++)
            {
                Assert.Equal((64 + b) / 255f, last.Inputs[(t * 6 + b) * 28 + 13]);
            }
        }
        Assert.Equal([4, 5, 6, 7, 8, 9], last.Labels);
    }

    [Fact]
    public void Pixels_are_scaled_as_ToTensor_does()
    {
        byte[] image = new byte[ImageSet.Pixels];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = (byte)(i % 256);
        }
        var set = new ImageSet(image, [3]);
        using var loader = Images(set, SequenceLayout.Create(SequenceView.Pixels), 32, shuffle: false, augment: false, seed: 0);

        Batch batch = loader.Epoch(0).Single();

        Assert.Equal(1, batch.Size);
        for (int t = 0; t < ImageSet.Pixels; t++)
        {
            Assert.Equal((float)(t % 256) / 255f, batch.Inputs[t]);
        }
        Assert.Equal(0f, batch.Inputs[0]);
        Assert.Equal(1f, batch.Inputs[255]);
    }

    [Theory]
    [InlineData(SequenceView.Rows, true)]
    [InlineData(SequenceView.Pixels, true)]
    [InlineData(SequenceView.Permuted, true)]
    [InlineData(SequenceView.Permuted, false)]
    public void Views_place_each_pixel_where_the_layout_says(SequenceView view, bool augment)
    {
        var (train, _) = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory);
        ImageSet set = train.Take(40);
        SequenceLayout layout = SequenceLayout.Create(view, permutationSeed: 5);
        const ulong seed = 99;
        var source = new RecordingSource(new MnistSource(set, layout, augment, seed));
        using var loader = new BatchLoader(source, 16, shuffle: true, seed);
        byte[] expectedImage = new byte[ImageSet.Pixels];

        int firstExample = 0;
        foreach (Batch batch in loader.Epoch(2))
        {
            Assert.Equal(layout.Steps * batch.Size * layout.Features, batch.InputSpan.Length);
            int[] examples = source.Batch(2, firstExample);
            Assert.Equal(batch.Size, examples.Length);
            for (int b = 0; b < batch.Size; b++)
            {
                int index = examples[b];
                Assert.Equal(set.Labels[index], batch.Labels[b]);
                if (augment)
                {
                    AffineParameters draw = Augmentation.Draw(seed, 2, firstExample + b);
                    Augmentation.Warp(set.Image(index), expectedImage, draw);
                }
                else
                {
                    set.Image(index).CopyTo(expectedImage);
                }
                for (int t = 0; t < layout.Steps; t++)
                {
                    for (int f = 0; f < layout.Features; f++)
                    {
                        float expected = expectedImage[layout.PixelAt(t * layout.Features + f)] / 255f;
                        Assert.Equal(expected, batch.Inputs[(t * batch.Size + b) * layout.Features + f]);
                    }
                }
            }
            firstExample += batch.Size;
        }
    }

    [Fact]
    public void Epochs_are_deterministic_and_differ_from_each_other()
    {
        var (train, _) = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory);
        ImageSet set = train.Take(300);

        List<float[]> Run(int epoch)
        {
            using var loader = Images(set, SequenceLayout.Create(SequenceView.Rows), 32, shuffle: true, augment: true, seed: 1234);
            return loader.Epoch(epoch).Select(b => b.InputSpan.ToArray()).ToList();
        }

        List<float[]> first = Run(1);
        List<float[]> again = Run(1);
        List<float[]> next = Run(2);

        Assert.Equal(first.Count, again.Count);
        Assert.All(first.Zip(again), pair => Assert.Equal(pair.First, pair.Second));
        Assert.NotEqual(first[0], next[0]);
    }

    [Fact]
    public void Resuming_at_batch_k_yields_the_tail_of_the_full_epoch()
    {
        var (train, _) = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory);
        ImageSet set = train.Take(250);
        var source = new RecordingSource(new MnistSource(set, SequenceLayout.Create(SequenceView.Pixels), augment: true, seed: 5));
        using var loader = new BatchLoader(source, 32, shuffle: true, seed: 5);

        var full = loader.Epoch(3).Select(b => (Labels: b.LabelSpan.ToArray(), Inputs: b.InputSpan.ToArray())).ToList();
        int[][] fullExamples = Enumerable.Range(0, 8).Select(k => source.Batch(3, k * 32)).ToArray();
        source.Examples.Clear();
        var tail = loader.Epoch(3, firstBatch: 5).Select(b => (Labels: b.LabelSpan.ToArray(), Inputs: b.InputSpan.ToArray())).ToList();

        Assert.Equal(8, full.Count);
        Assert.Equal(3, tail.Count);
        Assert.Equal(3, source.Examples.Count);
        for (int i = 0; i < tail.Count; i++)
        {
            Assert.Equal(fullExamples[5 + i], source.Batch(3, (5 + i) * 32));
            Assert.Equal(full[5 + i].Labels, tail[i].Labels);
            Assert.Equal(full[5 + i].Inputs, tail[i].Inputs);
        }
    }

    [Fact]
    public void Results_do_not_depend_on_how_slowly_the_consumer_runs()
    {
        ImageSet set = IdxBuilder.Numbered(200);
        using var loader = Images(set, SequenceLayout.Create(SequenceView.Rows), 8, shuffle: true, augment: true, seed: 77);

        var fast = loader.Epoch(0).Select(b => b.InputSpan.ToArray()).ToList();
        var slow = loader.Epoch(0).Select(b =>
        {
            Thread.Sleep(1);
            return b.InputSpan.ToArray();
        }).ToList();

        Assert.All(fast.Zip(slow), pair => Assert.Equal(pair.First, pair.Second));
    }

    [Fact]
    public void Stopping_early_frees_the_loader_for_the_next_epoch()
    {
        using var loader = Images(IdxBuilder.Numbered(500), SequenceLayout.Create(SequenceView.Rows), 10, shuffle: true, augment: false, seed: 1);

        int firstSize = loader.Epoch(0).First().Size;
        int count = loader.Epoch(1).Count();

        Assert.Equal(10, firstSize);
        Assert.Equal(50, count);
    }

    [Fact]
    public void Only_one_epoch_enumerates_at_a_time()
    {
        using var loader = Images(IdxBuilder.Numbered(100), SequenceLayout.Create(SequenceView.Rows), 10, shuffle: false, augment: false, seed: 1);
        using IEnumerator<Batch> running = loader.Epoch(0).GetEnumerator();
        Assert.True(running.MoveNext());

        Assert.Throws<InvalidOperationException>(() => loader.Epoch(1).First());
    }

    [Fact]
    public void Unshuffled_clean_batches_are_the_set_in_order()
    {
        var source = new RecordingSource(new MnistSource(IdxBuilder.Numbered(45), SequenceLayout.Create(SequenceView.Rows)));
        using var loader = new BatchLoader(source, 10, shuffle: false, seed: 1);

        int batches = loader.Epoch(4).Count();
        var indices = Enumerable.Range(0, batches).SelectMany(k => source.Batch(4, k * 10)).ToList();

        Assert.Equal(Enumerable.Range(0, 45), indices);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        ImageSet set = IdxBuilder.Numbered(10);
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);

        Assert.Throws<SmnistException>(() => Images(set, rows, 0, true, false, 0));
        using var loader = Images(set, rows, 4, true, false, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(0, firstBatch: 4));
        Assert.Empty(loader.Epoch(0, firstBatch: 3));
    }
}
