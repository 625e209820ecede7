using System.Diagnostics;
using Freshet.Jobs;

namespace Freshet.Grains.Jobs;

/// <summary>
/// The sync-send barrier on the orchestrator's side: every trainer of a job held at a step boundary,
/// so what is read meanwhile (shard rows, dense weights, batch-norm statistics) comes from the same
/// steps. <see cref="HoldAsync"/> returns once every trainer has stopped; disposing releases them.
/// A trainer that fails to stop never leaves the others held: they are released and the failure
/// names the trainer. The trainer side is <see cref="Model.Training.StepGate"/>.
/// </summary>
public sealed class TrainerBarrier : IAsyncDisposable
{
    private readonly IReadOnlyList<ITrainerGrain> _trainers;
    private readonly Func<bool> _resumeOnRelease;
    private readonly Stopwatch _clock;
    private bool _released;
    private TimeSpan _heldFor;

    private TrainerBarrier(IReadOnlyList<ITrainerGrain> trainers, Func<bool> resumeOnRelease, Stopwatch clock, long[] steps)
    {
        _trainers = trainers;
        _resumeOnRelease = resumeOnRelease;
        _clock = clock;
        Steps = steps;
        Reached = clock.Elapsed;
    }

    /// <summary>Each trainer's steps done when it stopped, in the order the trainers were given.</summary>
    public IReadOnlyList<long> Steps { get; }

    /// <summary>How long the trainers took to reach a step boundary.</summary>
    public TimeSpan Reached { get; }

    /// <summary>How long the trainers were held after all had stopped: until release, or until now while held.</summary>
    public TimeSpan Held => (_released ? _heldFor : _clock.Elapsed) - Reached;

    /// <summary>
    /// Holds every trainer at its next step boundary. <paramref name="resumeOnRelease"/> is asked at release
    /// (and on failure) whether to let them run again: false while an operator has paused the job.
    /// </summary>
    public static async Task<TrainerBarrier> HoldAsync(IReadOnlyList<ITrainerGrain> trainers, Func<bool> resumeOnRelease)
    {
        var clock = Stopwatch.StartNew();
        var pauses = trainers.Select(t => t.PauseAsync()).ToArray();
        try
        {
            await Task.WhenAll(pauses);
        }
        catch (Exception)
        {
            // The trainers that did stop must not stay held behind one that failed.
            var failed = Enumerable.Range(0, pauses.Length).Where(i => !pauses[i].IsCompletedSuccessfully).ToList();
            var first = pauses[failed[0]].Exception?.GetBaseException();
            string? releaseError = null;
            if (resumeOnRelease())
            {
                try
                {
                    await ResumeAllAsync([.. trainers.Where((_, i) => pauses[i].IsCompletedSuccessfully)]);
                }
                catch (Exception e)
                {
                    releaseError = e.GetBaseException().Message;
                }
                // A trainer whose pause call failed (timed out, say) may still hold that pause pending; left so, it would
                // stop at its next step boundary with nobody to release it. Resuming withdraws it; a trainer that cannot
                // be reached now has nothing pending once it is back (its activation is new).
                await Task.WhenAll(failed.Select(i => ResumeQuietlyAsync(trainers[i])));
            }
            throw new BarrierException(
                $"trainer {string.Join(", ", failed)} of {trainers.Count} did not stop at a step boundary ({first?.Message ?? "cancelled"}); "
                + (releaseError is null ? "the others were released" : $"releasing the others failed too ({releaseError})")
                + " and nothing was read under the barrier; retry once the trainer is back (freshet status shows it)", first);
        }
        return new TrainerBarrier(trainers, resumeOnRelease, clock, [.. pauses.Select(p => p.Result)]);
    }

    private static async Task ResumeQuietlyAsync(ITrainerGrain trainer)
    {
        try
        {
            await trainer.ResumeAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // best effort: the barrier's error already names this trainer
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_released) return;
        _released = true;
        if (_resumeOnRelease()) await ResumeAllAsync(_trainers);
        _heldFor = _clock.Elapsed;
    }

    /// <summary>Every resume is started before any is awaited, so one that fails does not keep the rest held.</summary>
    private static Task ResumeAllAsync(IReadOnlyList<ITrainerGrain> trainers) => Task.WhenAll(trainers.Select(t => t.ResumeAsync()).ToArray());
}
