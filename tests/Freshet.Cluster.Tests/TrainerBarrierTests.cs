using Freshet.Grains.Jobs;
using Freshet.Jobs;
using Freshet.Model.Training;

namespace Freshet.Cluster.Tests;

/// <summary>The orchestrator's barrier over trainers that run steps through their own <see cref="StepGate"/>.</summary>
public class TrainerBarrierTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Holds_every_trainer_at_a_step_boundary_and_releases_them_on_dispose()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var trainers = Enumerable.Range(0, 3).Select(_ => new SteppingTrainer(cts.Token)).ToList();
        await Task.WhenAll(trainers.Select(t => t.RunningAsync(10)));

        var barrier = await TrainerBarrier.HoldAsync(trainers, () => true);
        var watched = System.Diagnostics.Stopwatch.StartNew(); // held at least from here until the release starts
        var held = trainers.Select(t => t.Gate.Steps).ToList();
        Assert.Equal(held, barrier.Steps);
        Assert.All(trainers, t => Assert.False(t.InStep));
        await Task.Delay(50, cts.Token); // no step may start while held: the counts stay where they stopped
        Assert.Equal(held, trainers.Select(t => t.Gate.Steps).ToList());

        var watchedFor = watched.Elapsed;
        await barrier.DisposeAsync();
        await Task.WhenAll(trainers.Select((t, i) => t.RunningAsync(held[i] + 10)));
        // Both on the monotonic clock (a timer may fire a little before its nominal 50 ms on that clock).
        Assert.True(barrier.Held >= watchedFor, $"held {barrier.Held.TotalMilliseconds} ms, watched {watchedFor.TotalMilliseconds} ms");
        foreach (var t in trainers) await t.StopAsync();
    }

    [Fact]
    public async Task A_trainer_that_fails_to_stop_leaves_none_held_and_is_named()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var trainers = Enumerable.Range(0, 3).Select(_ => new SteppingTrainer(cts.Token)).ToList();
        await Task.WhenAll(trainers.Select(t => t.RunningAsync(5)));
        trainers[1].FailPause = true;

        var e = await Assert.ThrowsAsync<BarrierException>(() => TrainerBarrier.HoldAsync(trainers, () => true));

        Assert.Contains("trainer 1 of 3", e.Message);
        Assert.Contains("the others were released", e.Message);
        var now = trainers.Select(t => t.Gate.Steps).ToList();
        await Task.WhenAll(new[] { 0, 2 }.Select(i => trainers[i].RunningAsync(now[i] + 10)));
        foreach (var t in trainers) await t.StopAsync();
    }

    [Fact]
    public async Task A_trainer_whose_pause_call_timed_out_is_not_left_to_stop_later_with_nobody_to_release_it()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var trainers = Enumerable.Range(0, 2).Select(_ => new SteppingTrainer(cts.Token)).ToList();
        await Task.WhenAll(trainers.Select(t => t.RunningAsync(5)));
        trainers[1].PauseTimesOut = true; // its gate takes the pause, but the call fails as a timed-out call does

        await Assert.ThrowsAsync<BarrierException>(() => TrainerBarrier.HoldAsync(trainers, () => true));

        var now = trainers.Select(t => t.Gate.Steps).ToList();
        await Task.WhenAll(trainers.Select((t, i) => t.RunningAsync(now[i] + 10))); // both train on
        Assert.False(trainers[1].Gate.IsPaused);
        foreach (var t in trainers) await t.StopAsync();
    }

    [Fact]
    public async Task A_job_paused_by_an_operator_stays_paused_after_the_barrier()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var trainers = Enumerable.Range(0, 2).Select(_ => new SteppingTrainer(cts.Token)).ToList();
        await Task.WhenAll(trainers.Select(t => t.RunningAsync(5)));

        await using (await TrainerBarrier.HoldAsync(trainers, () => false))
        {
        }

        Assert.All(trainers, t => Assert.True(t.Gate.IsPaused));
        Assert.All(trainers, t => Assert.Equal(0, t.Resumes));
        foreach (var t in trainers) await t.StopAsync();
    }

    /// <summary>A trainer double: a loop of short steps through a real <see cref="StepGate"/>.</summary>
    private sealed class SteppingTrainer : ITrainerGrain
    {
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;
        private volatile bool _inStep;

        public SteppingTrainer(CancellationToken deadline)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(deadline);
            _loop = Task.Run(LoopAsync);
        }

        public StepGate Gate { get; } = new();

        public bool InStep => _inStep;

        public bool FailPause { get; set; }

        public int Resumes { get; private set; }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Gate.EnterStepAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                _inStep = true;
                Thread.SpinWait(2000);
                _inStep = false;
                Gate.ExitStep();
                await Task.Yield();
            }
        }

        /// <summary>Waits, within the test's deadline, until the trainer has done at least this many steps.</summary>
        public async Task RunningAsync(long steps)
        {
            while (Gate.Steps < steps)
            {
                _stop.Token.ThrowIfCancellationRequested();
                await Task.Delay(1, _stop.Token);
            }
        }

        public bool PauseTimesOut { get; set; }

        public Task<long> PauseAsync()
        {
            if (FailPause) return Task.FromException<long>(new TimeoutException("the trainer's silo did not answer"));
            if (!PauseTimesOut) return Gate.PauseAsync();
            _ = Gate.PauseAsync(); // taken by the gate, pending or done; the caller only sees the timeout
            return Task.FromException<long>(new TimeoutException("the pause call timed out"));
        }

        public Task ResumeAsync()
        {
            Resumes++;
            Gate.Resume();
            return Task.CompletedTask;
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            Gate.Resume();
            await _loop;
        }

        public Task StartAsync(JobSpec spec) => throw new NotSupportedException();
        public Task SkipThroughAsync(IReadOnlyDictionary<string, long> positions) => throw new NotSupportedException();

        public Task<TrainerStatus> GetStatusAsync() => throw new NotSupportedException();

        public Task<string> GetReportJsonAsync() => throw new NotSupportedException();
        public Task<ProducerProgress> GetDeliveredAsync(Guid producer) => throw new NotSupportedException();
    }
}
