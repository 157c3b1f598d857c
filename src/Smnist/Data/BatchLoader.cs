using System.Runtime.ExceptionServices;

namespace Smnist.Data;

/// <summary>
/// Turns an <see cref="ISequenceSource"/> into batches, as a shuffling DataLoader without drop_last does, prepared
/// on a background thread a few batches ahead of the consumer. The order of epoch e is a shuffle drawn from
/// (seed, e), and the source draws anything random from the batch's position, so the batches never depend on
/// thread timing, and an epoch resumed at batch k yields exactly the tail of the full epoch.
/// </summary>
internal sealed class BatchLoader : IDisposable
{
    public const int DefaultBatchSize = 32;

    /// <summary>Batches in flight: one being consumed, the rest being prepared.</summary>
    private const int PrefetchDepth = 3;

    private readonly ISequenceSource _source;
    private readonly bool _shuffle;
    private readonly ulong _seed;
    private readonly int[] _order;
    private readonly Batch[] _slots;
    private EpochRun? _running;
    private bool _disposed;

    /// <summary>Batches of <paramref name="source"/>, shuffled each epoch from <paramref name="seed"/> when <paramref name="shuffle"/>.</summary>
    public BatchLoader(ISequenceSource source, int batchSize, bool shuffle, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (batchSize < 1)
            throw new SmnistException($"batch size {batchSize} must be at least 1");
        if (source.Count == 0)
            throw new SmnistException("the source is empty; there is nothing to batch");
        _source = source;
        _shuffle = shuffle;
        _seed = seed;
        BatchSize = Math.Min(batchSize, source.Count);
        _order = new int[source.Count];
        _slots = new Batch[PrefetchDepth];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = new Batch(source.Steps, source.Features, BatchSize, source.LabelsPerStep);
    }

    public int BatchSize { get; }

    public int Count => _source.Count;

    public int BatchesPerEpoch => (Count + BatchSize - 1) / BatchSize;

    public ISequenceSource Source => _source;

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
            throw new ArgumentOutOfRangeException(nameof(firstBatch), firstBatch, $"an epoch has {BatchesPerEpoch} batches");
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
            order[i] = i;
        if (_shuffle)
            DeterministicRandom.For(_seed, RandomStreams.Shuffle, (ulong)(uint)epoch).Shuffle(order);
    }

    /// <summary>Prepares batch <paramref name="batchIndex"/> of the epoch whose order is <paramref name="order"/>, on the calling thread.</summary>
    internal void Fill(Batch batch, int epoch, int batchIndex, ReadOnlySpan<int> order)
    {
        int start = batchIndex * BatchSize;
        int size = Math.Min(BatchSize, Count - start);
        batch.Size = size;
        Span<int> examples = batch.Indices.AsSpan(0, size);
        Span<int> lengths = batch.Lengths.AsSpan(0, size);
        order.Slice(start, size).CopyTo(examples);
        // By descending length, stable (an insertion sort, no allocation): at step t the examples still running are
        // a prefix of the batch, which is how the engine skips padding. Equal lengths keep the shuffled order.
        for (int b = 0; b < size; b++)
        {
            int example = examples[b], length = _source.LengthOf(example);
            if (length < 1 || length > _source.Steps)
                throw new SmnistException($"example {example} has length {length}; lengths run from 1 to the source's {_source.Steps} steps");
            int at = b;
            for (; at > 0 && lengths[at - 1] < length; at--)
            {
                examples[at] = examples[at - 1];
                lengths[at] = lengths[at - 1];
            }
            examples[at] = example;
            lengths[at] = length;
        }
        _source.Fill(examples, new BatchPosition(epoch, start), batch.InputSpan, batch.Labels.AsSpan(0, (batch.LabelsPerStep ? batch.Steps : 1) * size));
    }

    private IEnumerable<Batch> Enumerate(int epoch, int firstBatch)
    {
        var run = new EpochRun(this, epoch, firstBatch);
        if (Interlocked.CompareExchange(ref _running, run, null) is not null)
            throw new InvalidOperationException("this loader is already enumerating an epoch; finish or dispose that enumeration first");
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
                return;
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
                    loader.Fill(loader._slots[batchIndex % PrefetchDepth], epoch, batchIndex, loader._order);
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
