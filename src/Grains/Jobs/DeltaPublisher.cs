using Freshet.Grains.Weights;
using Freshet.Model.Checkpoints;
using Freshet.Model.Serving;

namespace Freshet.Grains.Jobs;

/// <summary>
/// Publishes a job's deltas (DESIGN.md section 4) after the barrier has taken the snapshot: numbers the delta
/// above every one retained on its base, encodes it once from the shards' own encoded parts
/// (<see cref="WeightDelta.Frame"/>: copied, never decoded, merged or encoded again), retains it whole beside its
/// base checkpoint, and sends it in sealed chunks on the served model's weights stream (<see cref="WeightsChannel"/>), where each
/// replica's <see cref="DeltaAssembler"/> puts it back together.
/// </summary>
public sealed class DeltaPublisher(ICheckpointStore checkpoints, WeightsChannel channel)
{
    /// <summary>
    /// The next delta on <paramref name="published"/>'s checkpoint: above every delta retained on it, not only above
    /// the last one recorded, so a publish that retained its delta and failed before recording it never has its
    /// number reused for other content.
    /// </summary>
    public async Task<WeightsVersion> NextAsync(string model, WeightsVersion published)
    {
        var retained = await checkpoints.ListFilesAsync(model, published.Checkpoint, CheckpointFiles.DeltaPrefix);
        return new WeightsVersion(published.Checkpoint, Math.Max(published.Delta, retained.Select(CheckpointFiles.DeltaSequence).DefaultIfEmpty(0).Max()) + 1);
    }

    /// <summary>Retains the encoded delta beside its base, whole or not at all (a replica loading that base meanwhile never reads half of it).</summary>
    public Task RetainAsync(string model, WeightsVersion version, byte[] encoded) =>
        checkpoints.WriteAtomicAsync(model, version.Checkpoint, CheckpointFiles.Delta(version.Delta), encoded);

    /// <summary>Sends the encoded delta on the weights channel, from <paramref name="grain"/>; returns how many chunks it took.</summary>
    public Task<int> SendAsync(IGrainBase grain, string model, WeightsVersion version, byte[] encoded, DateTime snapshotUtc) =>
        channel.SendDeltaAsync(grain, model, version, encoded, snapshotUtc);
}
