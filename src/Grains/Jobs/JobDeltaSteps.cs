using Freshet.Model.Serving;

namespace Freshet.Grains.Jobs;

/// <summary>A job's storage, state and weights stream as a delivery's steps (<see cref="IDeltaSteps"/>).</summary>
internal sealed class JobDeltaSteps(IGrainBase job, Func<string> served, DeltaPublisher publisher, IPersistentState<OrchestratorState> state, Func<UnsentDelta?, Task> keep) : IDeltaSteps
{
    public Task<WeightsVersion> NextAsync(WeightsVersion published) => publisher.NextAsync(served(), published);

    public Task RetainAsync(WeightsVersion version, byte[] encoded) => publisher.RetainAsync(served(), version, encoded);

    public async Task RecordAsync(WeightsVersion version, DateTime snapshotUtc)
    {
        state.State.Published = version;
        state.State.LastPublishUtc = snapshotUtc;
        await state.WriteStateAsync();
    }

    public Task<int> SendAsync(WeightsVersion version, byte[] encoded, DateTime snapshotUtc) => publisher.SendAsync(job, served(), version, encoded, snapshotUtc);

    public Task KeepAsync(UnsentDelta? delta) => keep(delta);
}
