using Smnist.Training;

namespace Smnist.Tests.Training;

[Trait("Category", "unit")]
public class WorkerPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void AfterSynchronizeEveryWorkerSeesWhatAllWroteBefore(int workers)
    {
        using var pool = new WorkerPool(workers);
        var job = new RoundsJob(pool, rounds: 2000);
        pool.Run(job);
        job.FirstRound = 2000; // a second job goes on from the phase the first ended in
        pool.Run(job);
        Assert.Equal(0, job.Mismatches);
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(2, 0)] // the calling thread
    [InlineData(1, 0)]
    public void AWorkerThatFailsBeforeSynchronizeFailsTheJobWithoutHangingAndThePoolGoesOn(int workers, int failingWorker)
    {
        using var pool = new WorkerPool(workers);
        var failing = new FailingJob(pool, failingWorker);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(failing));
        Assert.Equal($"worker {failingWorker} failed", error.Message);
        Assert.Equal(workers - 1, failing.PassedBoth); // the others met at both points without it

        var job = new RoundsJob(pool, rounds: 100);
        pool.Run(job);
        Assert.Equal(0, job.Mismatches);
    }

    /// <summary>Rounds of: write the round into the worker's slot, synchronize, check every slot, synchronize.</summary>
    private sealed class RoundsJob(WorkerPool pool, int rounds) : IWorkerJob
    {
        private readonly int[] _slots = Enumerable.Repeat(-1, pool.Workers).ToArray();
        private int _mismatches;

        public int FirstRound { get; set; }

        public int Mismatches => _mismatches;

        public void Execute(int worker)
        {
            for (int round = FirstRound; round < FirstRound + rounds; round++)
            {
                _slots[worker] = round;
                pool.Synchronize();
                foreach (int slot in _slots)
                {
                    if (slot != round)
                        Interlocked.Increment(ref _mismatches);
                }
                pool.Synchronize();
            }
        }
    }

    private sealed class FailingJob(WorkerPool pool, int failingWorker) : IWorkerJob
    {
        private int _passedBoth;

        public int PassedBoth => _passedBoth;

        public void Execute(int worker)
        {
            if (worker == failingWorker)
                throw new InvalidOperationException($"worker {worker} failed");
            pool.Synchronize();
            pool.Synchronize();
            Interlocked.Increment(ref _passedBoth);
        }
    }
}
