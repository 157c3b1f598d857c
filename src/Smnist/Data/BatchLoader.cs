using System.Runtime.ExceptionServices;

namespace Smnist.Data;

/// <summary>
/// Turns an <see cref="ImageSet"/> into batches, as a shuffling DataLoader without drop_last does, prepared on a
/// background thread a few batches ahead of the consumer. Everything random is a pure function of the seed: the
/// order of epoch e is a shuffle drawn from (seed, e), and the augmentation of the image at position p of epoch e
/// is drawn from (seed, e, p). So the batches never depend on thread timing, and an epoch resumed at batch k yields
/// exactly the tail of the full epoch. Images stay bytes; they are converted to floats (v / 255, as ToTensor does)
/// only in the batch buffers, which are recycled.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    public const int DefaultBatchSize = 32;

    /// <summary>Batches in flight: one being consumed, the rest being prepared.</summary>
    private const int PrefetchDepth = 3;

    private static readonly float[] UnitScale = CreateUnitScale();

    private readonly ImageSet _set;
    private readonly SequenceLayout _layout;
    private readonly bool _shuffle;
    private readonly bool _augment;
    private readonly ulong _seed;
    private readonly int[] _order;
    private readonly byte[] _scratch;
    private readonly Batch[] _slots;
    private EpochRun? _running;
    private bool _disposed;

    public BatchLoader(ImageSet set, SequenceLayout layout, int batchSize, bool shuffle, bool augment, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(layout);
        if (batchSize < 1)
        {
            throw new SmnistException($"batch size {batchSize} must be at least 1.");
        }
        if (set.Count == 0)
        {
            throw new SmnistException("the image set is empty; there is nothing to batch.");
        }
        _set = set;
        _layout = layout;
        _shuffle = shuffle;
        _augment = augment;
        _seed = seed;
        BatchSize = Math.Min(batchSize, set.Count);
        _order = new int[set.Count];
        _scratch = new byte[BatchSize * ImageSet.Pixels];
        _slots = new Batch[PrefetchDepth];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Batch(layout, BatchSize);
        }
    }

    public int BatchSize { get; }

    public int Count => _set.Count;

    public int BatchesPerEpoch => (Count + BatchSize - 1) / BatchSize;

    public SequenceLayout Layout => _layout;

    /// <summary>
    /// The batches of <paramref name="epoch"/> from <paramref name="firstBatch"/> on, prepared ahead on a
    /// background thread. Only one epoch may be enumerated at a time; a yielded batch is valid until the next
    /// MoveNext. Stopping early (break, exception) stops the background thread.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int firstBatch = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (firstBatch < 0 || firstBatch > BatchesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(firstBatch), firstBatch, $"An epoch has {BatchesPerEpoch} batches.");
        }
        return Enumerate(epoch, firstBatch);
    }

    public void Dispose()
    {
        _disposed = true;
        _running?.Stop();
    }

    /// <summary>The order of the set's indices in <paramref name="epoch"/>: a seeded shuffle, or identity.</summary>
    internal void FillOrder(int epoch, Span<int> order)
    {
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        if (_shuffle)
        {
            DeterministicRandom.For(_seed, RandomStreams.Shuffle, (ulong)(uint)epoch).Shuffle(order);
        }
    }

    /// <summary>Prepares batch <paramref name="batchIndex"/> of the epoch whose order is <paramref name="order"/>, on the calling thread.</summary>
    internal void Fill(Batch batch, int epoch, int batchIndex, ReadOnlySpan<int> order, Span<byte> scratch)
    {
        int start = batchIndex * BatchSize;
        int size = Math.Min(BatchSize, Count - start);
        batch.Size = size;
        batch.Index = batchIndex;
        batch.Epoch = epoch;
        for (int row = 0; row < size; row++)
        {
            int index = order[start + row];
            batch.Indices[row] = index;
            batch.Labels[row] = _set.Labels[index];
            Span<byte> image = scratch.Slice(row * ImageSet.Pixels, ImageSet.Pixels);
            if (_augment)
            {
                Augmentation.Warp(_set.Image(index), image, Augmentation.Draw(_seed, epoch, start + row));
            }
            else
            {
                _set.Image(index).CopyTo(image);
            }
        }
        Pack(scratch[..(size * ImageSet.Pixels)], size, batch.Inputs);
    }

    /// <summary>Writes <paramref name="size"/> byte images as (Steps, size, Features) floats in [0, 1].</summary>
    private void Pack(ReadOnlySpan<byte> images, int size, Span<float> inputs)
    {
        int features = _layout.Features;
        ReadOnlySpan<float> unit = UnitScale;
        ReadOnlySpan<int> pixelOrder = _layout.PixelOrder;
        if (features == 1)
        {
            // One pixel per step: gather that pixel from each image into the step's contiguous row of the batch.
            for (int step = 0; step < _layout.Steps; step++)
            {
                int pixel = pixelOrder[step];
                Span<float> stepInputs = inputs.Slice(step * size, size);
                for (int row = 0, offset = pixel; row < stepInputs.Length; row++, offset += ImageSet.Pixels)
                {
                    stepInputs[row] = unit[images[offset]];
                }
            }
            return;
        }
        for (int step = 0; step < _layout.Steps; step++)
        {
            ReadOnlySpan<int> stepPixels = pixelOrder.Slice(step * features, features);
            Span<float> stepInputs = inputs.Slice(step * size * features, size * features);
            for (int row = 0; row < size; row++)
            {
                ReadOnlySpan<byte> image = images.Slice(row * ImageSet.Pixels, ImageSet.Pixels);
                Span<float> destination = stepInputs.Slice(row * features, features);
                for (int f = 0; f < destination.Length; f++)
                {
                    destination[f] = unit[image[stepPixels[f]]];
                }
            }
        }
    }

    private IEnumerable<Batch> Enumerate(int epoch, int firstBatch)
    {
        var run = new EpochRun(this, epoch, firstBatch);
        if (Interlocked.CompareExchange(ref _running, run, null) is not null)
        {
            throw new InvalidOperationException("This loader is already enumerating an epoch; finish or dispose that enumeration first.");
        }
        try
        {
            run.Start();
            for (int batchIndex = firstBatch; batchIndex < BatchesPerEpoch; batchIndex++)
            {
                yield return run.Take(batchIndex);
                run.Recycle();
            }
        }
        finally
        {
            run.Stop();
            _running = null;
        }
    }

    private static float[] CreateUnitScale()
    {
        var table = new float[256];
        for (int value = 0; value < table.Length; value++)
        {
            table[value] = value / 255f;
        }
        return table;
    }

    /// <summary>
    /// The producer of one epoch: a thread filling the loader's slots in batch order, at most
    /// <see cref="PrefetchDepth"/> ahead; two semaphores count filled and free slots.
    /// </summary>
    private sealed class EpochRun(BatchLoader loader, int epoch, int firstBatch)
    {
        private readonly SemaphoreSlim _filled = new(0, PrefetchDepth + 1);
        private readonly SemaphoreSlim _free = new(PrefetchDepth, PrefetchDepth + 1);
        private Thread? _thread;
        private volatile bool _stopping;
        private ExceptionDispatchInfo? _failure;

        public void Start()
        {
            _thread = new Thread(Produce) { IsBackground = true, Name = "smnist batch prefetch" };
            _thread.Start();
        }

        public Batch Take(int batchIndex)
        {
            _filled.Wait();
            _failure?.Throw();
            ObjectDisposedException.ThrowIf(_stopping, loader);
            return loader._slots[batchIndex % PrefetchDepth];
        }

        public void Recycle() => _free.Release();

        public void Stop()
        {
            if (_thread is null || _stopping)
            {
                return;
            }
            _stopping = true;
            _free.Release(); // wake a producer waiting for a slot so it sees the stop; the count allows one extra
            _thread.Join();
        }

        private void Produce()
        {
            try
            {
                loader.FillOrder(epoch, loader._order);
                for (int batchIndex = firstBatch; batchIndex < loader.BatchesPerEpoch; batchIndex++)
                {
                    _free.Wait();
                    if (_stopping)
                    {
                        _filled.Release(); // a consumer still waiting (loader disposed mid-epoch) must wake
                        return;
                    }
                    loader.Fill(loader._slots[batchIndex % PrefetchDepth], epoch, batchIndex, loader._order, loader._scratch);
                    _filled.Release();
                }
            }
            catch (Exception ex)
            {
                _failure = ExceptionDispatchInfo.Capture(ex);
                _filled.Release();
            }
        }
    }
}
