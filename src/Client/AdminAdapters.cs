using Freshet.Admin;
using Freshet.Deployments;
using Freshet.Jobs;

namespace Freshet.Client;

/// <summary>A job's admin calls through a silo's admin front door (<see cref="FreshetClient.Job"/>); reads go to the job's grain.</summary>
internal sealed class FrontDoorJob(FreshetClient client, string job) : ITrainingOrchestratorGrain
{
    public Task<JobStatus> CreateAsync(JobSpec spec) => client.AdminAsync(d => d.CreateJobAsync(job, spec));

    public Task<JobStatus> StartAsync() => client.AdminAsync(d => d.StartJobAsync(job));

    public Task<JobStatus> PauseAsync() => client.AdminAsync(d => d.PauseJobAsync(job));

    public Task<JobStatus> ResumeAsync() => client.AdminAsync(d => d.ResumeJobAsync(job));

    public Task<JobStatus> StopAsync() => client.AdminAsync(d => d.StopJobAsync(job));

    public Task<CheckpointResult> CheckpointAsync() => client.AdminAsync(d => d.CheckpointJobAsync(job));

    public Task<PublishResult> PublishAsync() => client.AdminAsync(d => d.PublishJobAsync(job));

    public Task<CheckpointResult> PublishCheckpointAsync() => client.AdminAsync(d => d.PublishJobCheckpointAsync(job));

    public Task<JobStatus> RestoreAsync(long version, string fromModel) => client.AdminAsync(d => d.RestoreJobAsync(job, version, fromModel));

    public Task<JobStatus> RollbackAsync(long version) => client.AdminAsync(d => d.RollbackJobAsync(job, version));

    public Task<JobStatus> GetStatusAsync() => client.Cluster.Job(job).GetStatusAsync();
}

/// <summary>A deployment's admin calls through a silo's admin front door (<see cref="FreshetClient.Deployment"/>); reads go to its grain.</summary>
internal sealed class FrontDoorDeployment(FreshetClient client, string model) : IDeploymentGrain
{
    public Task<DeploymentStatus> StartAsync(DeploymentSpec spec) => client.AdminAsync(d => d.StartDeploymentAsync(spec));

    public Task<DeploymentStatus> SetModeAsync(Mode mode, TimeSpan? every = null) => client.AdminAsync(d => d.SetModeAsync(model, mode, every));

    public Task<IReadOnlyList<DeploymentEvent>> TickAsync(DateTime now) => client.AdminAsync(d => d.TickAsync(model, now));

    public Task<DeploymentStatus> CheckpointAsync() => client.AdminAsync(d => d.CheckpointDeploymentAsync(model));

    public Task<DeploymentStatus> RollbackAsync(long version) => client.AdminAsync(d => d.RollbackDeploymentAsync(model, version));

    public Task<DeploymentStatus> StopAsync() => client.AdminAsync(d => d.StopDeploymentAsync(model));

    public Task<DeploymentStatus> GetStatusAsync() => client.Cluster.GetGrain<IDeploymentGrain>(model).GetStatusAsync();
}
