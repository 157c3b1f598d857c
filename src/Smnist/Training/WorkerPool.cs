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
/// can wait for each other at <see cref="Synchronize"/>, a barrier of its own: System.Threading.Barrier's events
/// create their lock objects at their first blocking wait, which can come in the middle of training.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly SemaphoreSlim _finished = new(0);
    private readonly long[] _allocatedBytes;
    private readonly object _barrier = new();                             // guards the three counts below
    private readonly SemaphoreSlim[] _phaseEnds = [new(0), new(0)];       // released at the end of even and odd phases
    private int _participants;      // workers of the running job that meet at Synchronize: a failed one leaves
    private int _arrived;           // workers waiting in the current phase
    private int _phase;
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
        _participants = workers;
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
    public void Synchronize()
    {
        SemaphoreSlim phaseEnd;
        lock (_barrier)
        {
            if (++_arrived == _participants)
            {
                EndPhase(waiting: _arrived - 1);
                return;
            }
            phaseEnd = _phaseEnds[_phase % 2];
        }
        phaseEnd.Wait();
    }

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
            LeaveBarrier();
        }
        for (int k = 0; k < _threads.Length; k++)
            _finished.Wait();
        _job = null;
        _participants = Workers;
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
    }

    /// <summary>Takes a failed worker out of the job's <see cref="Synchronize"/> calls, so the others never wait for it.</summary>
    private void LeaveBarrier()
    {
        lock (_barrier)
        {
            _participants--;
            if (_arrived > 0 && _arrived == _participants)
                EndPhase(waiting: _arrived);
        }
    }

    /// <summary>Lets the <paramref name="waiting"/> workers of the current phase go on; called holding the lock.</summary>
    private void EndPhase(int waiting)
    {
        SemaphoreSlim phaseEnd = _phaseEnds[_phase % 2];
        _arrived = 0;
        _phase++;
        if (waiting > 0)
            phaseEnd.Release(waiting);
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
                Interlocked.CompareExchange(ref _failure, e, null);
                LeaveBarrier();
            }
            _allocatedBytes[worker - 1] = GC.GetAllocatedBytesForCurrentThread();
            _finished.Release();
        }
    }
}
