using Freshet.Jobs;
using Freshet.Model.Serving;

namespace Freshet.Grains.Jobs;

/// <summary>
/// How a job delivers the deltas it takes from its shards, as a rule over <see cref="IDeltaSteps"/> without Orleans: a
/// delta is numbered above every one retained on its base, retained whole beside the base, recorded in the job's state
/// and then sent. One that storage or the stream refused is kept (<see cref="Unsent"/>, persisted through
/// <see cref="IDeltaSteps.KeepAsync"/>) and goes out first on the next publish, with the same number and the same bytes:
/// its rows are no longer in any shard's change set, so dropping it would leave serving without them until the next full
/// checkpoint. It is dropped only when serving moved to another base, whose checkpoint holds its rows.
/// </summary>
public sealed class PublishPlan(IDeltaSteps steps)
{
    /// <summary>The delta taken and not yet delivered whole; null when none waits.</summary>
    public UnsentDelta? Unsent { get; private set; }

    /// <summary>Takes back the delta a previous activation kept (read from grain state).</summary>
    public void Restore(UnsentDelta? kept) => Unsent = kept;

    /// <summary>
    /// The delta the next publish must deliver first: the unsent one, while serving still has its base
    /// (<paramref name="published"/>'s checkpoint); an unsent one on another base is dropped. Null when nothing waits.
    /// </summary>
    public async Task<UnsentDelta?> FirstAsync(WeightsVersion? published)
    {
        if (Unsent is not { } unsent) return null;
        if (published is { } on && unsent.Result.Weights.Checkpoint == on.Checkpoint) return unsent;
        await DropAsync();
        return null;
    }

    /// <summary>Drops the unsent delta: a checkpoint serving switched to holds its rows.</summary>
    public async Task DropAsync()
    {
        if (Unsent is null) return;
        Unsent = null;
        await steps.KeepAsync(null);
    }

    /// <summary>The number of the next delta on <paramref name="published"/>'s checkpoint.</summary>
    public Task<WeightsVersion> NextAsync(WeightsVersion published) => steps.NextAsync(published);

    /// <summary>
    /// Retains, records and sends <paramref name="delta"/>. Recorded before it is sent: a send that fails leaves a gap
    /// replicas fill from the retained file, never a number used again for other content.
    /// </summary>
    /// <exception cref="DeltaNotDeliveredException">A step failed: the delta is kept for the next publish.</exception>
    public async Task<PublishResult> DeliverAsync(UnsentDelta delta)
    {
        Unsent = delta;
        var version = delta.Result.Weights;
        var stage = DeliveryStage.Retain;
        try
        {
            await steps.RetainAsync(version, delta.Encoded);
            stage = DeliveryStage.Record;
            await steps.RecordAsync(version, delta.Result.SnapshotUtc);
            stage = DeliveryStage.Send;
            var chunks = await steps.SendAsync(version, delta.Encoded, delta.Result.SnapshotUtc);
            Unsent = null;
            await steps.KeepAsync(null);
            return delta.Result with { Chunks = chunks };
        }
        catch (Exception e) when (e is not JobRequestException)
        {
            await steps.KeepAsync(delta);
            throw new DeltaNotDeliveredException(version, stage, e);
        }
    }
}
