using Smnist.Data;
using Smnist.Data.Acquisition;

namespace Smnist.Tests.Data;

public class BatchLoaderTests
{
    [Theory]
    [InlineData(100, 32, true)]
    [InlineData(100, 32, false)]
    [InlineData(64, 32, true)]
    [InlineData(5, 32, true)]
    public void Every_index_appears_exactly_once_per_epoch(int count, int batchSize, bool shuffle)
    {
        using var loader = new BatchLoader(IdxBuilder.Numbered(count), SequenceLayout.Create(SequenceView.Rows), batchSize, shuffle, augment: false, seed: 7);
        var seen = new List<int>();

        foreach (Batch batch in loader.Epoch(0))
        {
            seen.AddRange(batch.Indices.AsSpan(0, batch.Size).ToArray());
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
        using var loader = new BatchLoader(set, SequenceLayout.Create(SequenceView.Rows), 32, shuffle: false, augment: false, seed: 0);

        var batches = loader.Epoch(0).Select(b => (b.Index, b.Size, Inputs: b.InputSpan.ToArray(), Labels: b.LabelSpan.ToArray())).ToList();

        Assert.Equal(3, loader.BatchesPerEpoch);
        Assert.Equal([32, 32, 6], batches.Select(b => b.Size));
        Assert.Equal([0, 1, 2], batches.Select(b => b.Index));
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
        using var loader = new BatchLoader(set, SequenceLayout.Create(SequenceView.Pixels), 32, shuffle: false, augment: false, seed: 0);

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
        using var loader = new BatchLoader(set, layout, 16, shuffle: true, augment, seed);
        byte[] expectedImage = new byte[ImageSet.Pixels];

        foreach (Batch batch in loader.Epoch(2))
        {
            Assert.Equal(layout.Steps * batch.Size * layout.Features, batch.InputSpan.Length);
            for (int b = 0; b < batch.Size; b++)
            {
                int index = batch.Indices[b];
                Assert.Equal(set.Labels[index], batch.Labels[b]);
                if (augment)
                {
                    AffineParameters draw = Augmentation.Draw(seed, 2, batch.Index * 16 + b);
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
        }
    }

    [Fact]
    public void Epochs_are_deterministic_and_differ_from_each_other()
    {
        var (train, _) = DataAcquisition.ReadDirectory(IdxBuilder.FixtureMnistDirectory);
        ImageSet set = train.Take(300);

        List<float[]> Run(int epoch)
        {
            using var loader = new BatchLoader(set, SequenceLayout.Create(SequenceView.Rows), 32, shuffle: true, augment: true, seed: 1234);
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
        using var loader = new BatchLoader(set, SequenceLayout.Create(SequenceView.Pixels), 32, shuffle: true, augment: true, seed: 5);

        var full = loader.Epoch(3).Select(b => (b.Index, Inputs: b.InputSpan.ToArray(), Indices: b.Indices.AsSpan(0, b.Size).ToArray())).ToList();
        var tail = loader.Epoch(3, firstBatch: 5).Select(b => (b.Index, Inputs: b.InputSpan.ToArray(), Indices: b.Indices.AsSpan(0, b.Size).ToArray())).ToList();

        Assert.Equal(8, full.Count);
        Assert.Equal(3, tail.Count);
        for (int i = 0; i < tail.Count; i++)
        {
            Assert.Equal(full[5 + i].Index, tail[i].Index);
            Assert.Equal(full[5 + i].Indices, tail[i].Indices);
            Assert.Equal(full[5 + i].Inputs, tail[i].Inputs);
        }
    }

    [Fact]
    public void Results_do_not_depend_on_how_slowly_the_consumer_runs()
    {
        ImageSet set = IdxBuilder.Numbered(200);
        using var loader = new BatchLoader(set, SequenceLayout.Create(SequenceView.Rows), 8, shuffle: true, augment: true, seed: 77);

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
        using var loader = new BatchLoader(IdxBuilder.Numbered(500), SequenceLayout.Create(SequenceView.Rows), 10, shuffle: true, augment: false, seed: 1);

        int firstIndex = loader.Epoch(0).First().Index;
        int count = loader.Epoch(1).Count();

        Assert.Equal(0, firstIndex);
        Assert.Equal(50, count);
    }

    [Fact]
    public void Only_one_epoch_enumerates_at_a_time()
    {
        using var loader = new BatchLoader(IdxBuilder.Numbered(100), SequenceLayout.Create(SequenceView.Rows), 10, shuffle: false, augment: false, seed: 1);
        using IEnumerator<Batch> running = loader.Epoch(0).GetEnumerator();
        Assert.True(running.MoveNext());

        Assert.Throws<InvalidOperationException>(() => loader.Epoch(1).First());
    }

    [Fact]
    public void Unshuffled_clean_batches_are_the_set_in_order()
    {
        using var loader = new BatchLoader(IdxBuilder.Numbered(45), SequenceLayout.Create(SequenceView.Rows), 10, shuffle: false, augment: false, seed: 1);

        var indices = loader.Epoch(4).SelectMany(b => b.Indices.AsSpan(0, b.Size).ToArray()).ToList();

        Assert.Equal(Enumerable.Range(0, 45), indices);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        ImageSet set = IdxBuilder.Numbered(10);
        SequenceLayout rows = SequenceLayout.Create(SequenceView.Rows);

        Assert.Throws<SmnistException>(() => new BatchLoader(set, rows, 0, true, false, 0));
        using var loader = new BatchLoader(set, rows, 4, true, false, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(0, firstBatch: 4));
        Assert.Empty(loader.Epoch(0, firstBatch: 3));
    }
}
