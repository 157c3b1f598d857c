using BenchmarkDotNet.Attributes;
using Smnist.Data;

namespace Smnist.Benchmarks;

/// <summary>
/// Preparing one epoch of 60,000 images (the size of MNIST's training set) on one thread: the seeded shuffle,
/// affine augmentation and packing into time-major float batches of 32, as the trainer's background thread does.
/// The goal is under one second per epoch. Synthetic digits stand in for MNIST so the benchmark needs no download;
/// the work per image does not depend on the pixel values.
/// </summary>
[MemoryDiagnoser]
public class DataBenchmarks
{
    private const int EpochImages = 60_000;

    private ImageSet _set = null!;
    private BatchLoader _loader = null!;
    private Batch _batch = null!;
    private int[] _order = null!;
    private byte[] _scratch = null!;

    [Params(SequenceView.Rows, SequenceView.Permuted)]
    public SequenceView View { get; set; }

    [Params(true, false)]
    public bool Augment { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _set = SyntheticDigits(EpochImages);
        _loader = new BatchLoader(new MnistSource(_set, SequenceLayout.Create(View, permutationSeed: 1), Augment, seed: 42), BatchLoader.DefaultBatchSize, shuffle: true, seed: 42);
        _batch = new Batch(_loader.Source.Steps, _loader.Source.Features, _loader.BatchSize);
        _order = new int[EpochImages];
        _scratch = new byte[_loader.BatchSize * ImageSet.Pixels];
    }

    internal static ImageSet SyntheticDigits(int count)
    {
        var random = new Random(1);
        byte[] images = new byte[count * ImageSet.Pixels];
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            // A filled square of random size and place: ink and background, as in a digit.
            int size = random.Next(8, 20);
            int top = random.Next(0, ImageSet.Height - size);
            int left = random.Next(0, ImageSet.Width - size);
            for (int y = top; y < top + size; y++)
            {
                images.AsSpan(i * ImageSet.Pixels + y * ImageSet.Width + left, size).Fill((byte)random.Next(128, 256));
            }
            labels[i] = (byte)(i % ImageSet.Classes);
        }
        return new ImageSet(images, labels);
    }

    [GlobalCleanup]
    public void Cleanup() => _loader.Dispose();

    /// <summary>One epoch prepared on the calling thread: shuffle, augment, pack all 1,875 batches.</summary>
    [Benchmark]
    public float EpochOnOneThread()
    {
        _loader.FillOrder(3, _order);
        float checksum = 0;
        for (int batch = 0; batch < _loader.BatchesPerEpoch; batch++)
        {
            _loader.Fill(_batch, 3, batch, _order);
            checksum += _batch.Inputs[batch % _batch.Inputs.Length];
        }
        return checksum;
    }

    /// <summary>The same epoch through the public path: prepared on the loader's background thread, consumed here.</summary>
    [Benchmark]
    public float EpochThroughPrefetch()
    {
        float checksum = 0;
        int index = 0;
        foreach (Batch batch in _loader.Epoch(3))
        {
            checksum += batch.Inputs[index++ % batch.Inputs.Length];
        }
        return checksum;
    }

}

/// <summary>The affine warp alone (parameter draw included) over 60,000 images.</summary>
[MemoryDiagnoser]
public class AugmentationBenchmarks
{
    private const int Images = 60_000;

    private ImageSet _set = null!;
    private readonly byte[] _warped = new byte[ImageSet.Pixels];

    [GlobalSetup]
    public void Setup() => _set = DataBenchmarks.SyntheticDigits(Images);

    [Benchmark]
    public int DrawAndWarp()
    {
        int sum = 0;
        for (int i = 0; i < Images; i++)
        {
            Augmentation.Warp(_set.Image(i), _warped, Augmentation.Draw(42, 0, i));
            sum += _warped[400];
        }
        return sum;
    }
}
