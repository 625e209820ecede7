using Orleans.Concurrency;

namespace Freshet.Jobs;

/// <summary>
/// One per job (key: the job's name): creates, starts, pauses and stops it, runs the sync-send
/// barrier and full checkpoints. Its state is persisted, so a job survives a silo restart.
/// </summary>
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

    [AlwaysInterleave, Alias("GetStatus")] Task<JobStatus> GetStatusAsync();
}
