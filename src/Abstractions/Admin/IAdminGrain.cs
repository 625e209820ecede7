using Freshet.Deployments;
using Freshet.Jobs;

namespace Freshet.Admin;

/// <summary>
/// The admin front door of a silo (a stateless worker, so it runs on the silo whose gateway the client
/// reached): every call that changes a deployment or a job comes from a client through it, and a silo
/// with admin calls disabled (serving-only silos facing scoring traffic) refuses them with
/// <see cref="AdminCallsDisabledException"/>. Reads (status) need no front door.
/// </summary>
[ClientCallable(ClientAccess.Admin)]
[Alias("Freshet.Admin.IAdminGrain")]
public interface IAdminGrain : IGrainWithIntegerKey
{
    [Alias("StartDeployment")] Task<DeploymentStatus> StartDeploymentAsync(DeploymentSpec spec);

    [Alias("SetMode")] Task<DeploymentStatus> SetModeAsync(string model, Mode mode, TimeSpan? every);

    [Alias("Tick")] Task<IReadOnlyList<DeploymentEvent>> TickAsync(string model, DateTime now);

    [Alias("CheckpointDeployment")] Task<DeploymentStatus> CheckpointDeploymentAsync(string model);

    [Alias("RollbackDeployment")] Task<DeploymentStatus> RollbackDeploymentAsync(string model, long version);

    [Alias("StopDeployment")] Task<DeploymentStatus> StopDeploymentAsync(string model);

    [Alias("CreateJob")] Task<JobStatus> CreateJobAsync(string job, JobSpec spec);

    [Alias("StartJob")] Task<JobStatus> StartJobAsync(string job);

    [Alias("PauseJob")] Task<JobStatus> PauseJobAsync(string job);

    [Alias("ResumeJob")] Task<JobStatus> ResumeJobAsync(string job);

    [Alias("StopJob")] Task<JobStatus> StopJobAsync(string job);

    [Alias("CheckpointJob")] Task<CheckpointResult> CheckpointJobAsync(string job);

    [Alias("PublishJob")] Task<PublishResult> PublishJobAsync(string job);

    [Alias("PublishJobCheckpoint")] Task<CheckpointResult> PublishJobCheckpointAsync(string job);

    [Alias("RestoreJob")] Task<JobStatus> RestoreJobAsync(string job, long version, string fromModel);

    [Alias("RollbackJob")] Task<JobStatus> RollbackJobAsync(string job, long version);
}
