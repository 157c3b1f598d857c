using System.Runtime.ExceptionServices;

namespace Smnist.Training;

/// <summary>Work split over a fixed number of workers; <see cref="Execute"/> runs one worker's share.</summary>
internal interface IWorkerJob
{
    void Execute(int worker);
}

/// <summary>
/// Persistent worker threads for the per-step parallel work: the calling thread is worker 0, the others wait on
/// semaphores between jobs, so a job costs two signals per worker and allocates nothing. Within a job, the workers
/// can wait for each other at <see cref="Synchronize"/>.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly SemaphoreSlim _finished = new(0);
    private readonly long[] _allocatedBytes;
    private readonly Barrier _barrier; // the workers of the running job meet here: a failed one leaves it
    private IWorkerJob? _job;
    private Exception? _failure;
    private volatile bool _stopping;

    public WorkerPool(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        Workers = workers;
        _threads = new Thread[workers - 1];
        _start = new SemaphoreSlim[workers - 1];
        _allocatedBytes = new long[workers - 1];
        _barrier = new Barrier(workers);
        for (int k = 0; k < _threads.Length; k++)
        {
            _start[k] = new SemaphoreSlim(0);
            int worker = k + 1;
            _threads[k] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"smnist worker {worker}" };
            _threads[k].Start();
        }
    }

    public int Workers { get; }

    /// <summary>Bytes the background workers have allocated, as of their last job: lets tests hold the step to zero.</summary>
    internal long BackgroundAllocatedBytes
    {
        get
        {
            long total = 0;
            foreach (long bytes in _allocatedBytes)
                total += bytes;
            return total;
        }
    }

    /// <summary>
    /// Called by every worker of the running job, waits until all have called it: what each wrote before is then
    /// there for all to read.
    /// </summary>
    public void Synchronize() => _barrier.SignalAndWait();

    /// <summary>Runs every worker's share of <paramref name="job"/> and returns when all are done.</summary>
    public void Run(IWorkerJob job)
    {
        _job = job;
        _failure = null;
        foreach (SemaphoreSlim start in _start)
            start.Release();
        try
        {
            job.Execute(0);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            _barrier.RemoveParticipant();
        }
        for (int k = 0; k < _threads.Length; k++)
            _finished.Wait();
        _job = null;
        if (_barrier.ParticipantCount < Workers)
            _barrier.AddParticipants(Workers - _barrier.ParticipantCount);
        if (_failure is Exception failure)
            ExceptionDispatchInfo.Throw(failure);
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (SemaphoreSlim start in _start)
            start.Release();
        foreach (Thread thread in _threads)
            thread.Join();
        _barrier.Dispose();
    }

    private void Loop(int worker)
    {
        while (true)
        {
            _start[worker - 1].Wait();
            if (_stopping)
                return;
            try
            {
                _job!.Execute(worker);
            }
            catch (Exception e)
            {
                // Out of the job's Synchronize calls, so the others never wait for it.
                Interlocked.CompareExchange(ref _failure, e, null);
                _barrier.RemoveParticipant();
            }
            _allocatedBytes[worker - 1] = GC.GetAllocatedBytesForCurrentThread();
            _finished.Release();
        }
    }
}
