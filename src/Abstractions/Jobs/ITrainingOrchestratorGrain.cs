using Freshet.Admin;
using Orleans.Concurrency;

namespace Freshet.Jobs;

/// <summary>
/// One per job (key: the job's name): creates, starts, pauses and stops it, runs the sync-send
/// barrier and full checkpoints. Its state is persisted, so a job survives a silo restart.
/// Clients call it as admins (every method but <see cref="GetStatusAsync"/>, which any client may read):
/// the one definition of a job's admin operations.
/// </summary>
[ClientCallable(ClientAccess.Admin, KeyNames = "job")]
[Alias("Freshet.Jobs.ITrainingOrchestratorGrain")]
public interface ITrainingOrchestratorGrain : IGrainWithStringKey
{
    [Alias("Create")] Task<JobStatus> CreateAsync(JobSpec spec);

    [Alias("Start")] Task<JobStatus> StartAsync();

    [Alias("Pause")] Task<JobStatus> PauseAsync();

    [Alias("Resume")] Task<JobStatus> ResumeAsync();

    [Alias("Stop")] Task<JobStatus> StopAsync();

    /// <summary>Pauses every trainer at a step boundary, writes a full checkpoint, resumes.</summary>
    [Alias("Checkpoint")] Task<CheckpointResult> CheckpointAsync();

    /// <summary>
    /// Snapshots the changing and dense tiers (and fresh frozen rows) under the barrier and publishes them
    /// as a delta on the served model's weights stream, retaining it beside its base checkpoint. The first
    /// publish of a job that has no base yet writes and announces a checkpoint first.
    /// </summary>
    [Alias("Publish")] Task<PublishResult> PublishAsync();

    /// <summary>A full checkpoint that serving switches to (the daily swap, promotion model A's checkpoint).</summary>
    [Alias("PublishCheckpoint")] Task<CheckpointResult> PublishCheckpointAsync();

    /// <summary>Loads every tier from checkpoint <paramref name="version"/> of <paramref name="fromModel"/> and publishes deltas on it from now on.</summary>
    [Alias("Restore")] Task<JobStatus> RestoreAsync(long version, string fromModel);

    /// <summary>Puts serving back on an older checkpoint of the served model and restarts the job from it; deltas on any other base are refused.</summary>
    [Alias("Rollback")] Task<JobStatus> RollbackAsync(long version);

    [ClientCallable(ClientAccess.Read), AlwaysInterleave, Alias("GetStatus")] Task<JobStatus> GetStatusAsync();
}
