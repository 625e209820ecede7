using Freshet.Admin;
using Freshet.Deployments;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Orleans.Concurrency;

namespace Freshet.Grains.Admin;

/// <summary>The admin front door (see <see cref="IAdminGrain"/>): checks this silo takes admin calls and the call's limits, then forwards.</summary>
[StatelessWorker]
public sealed class AdminGrain(AdminPolicy policy, ServingRegistry registry) : Grain, IAdminGrain
{
    private T Deployment<T>(string model, Func<IDeploymentGrain, T> call)
    {
        Check();
        AdminPolicy.CheckName(model, "model");
        return call(GrainFactory.GetGrain<IDeploymentGrain>(model));
    }

    private T Job<T>(string job, Func<ITrainingOrchestratorGrain, T> call)
    {
        Check();
        AdminPolicy.CheckName(job, "job");
        return call(GrainFactory.Job(job));
    }

    private void Check()
    {
        if (!policy.Enabled)
        {
            throw new AdminCallsDisabledException($"silo {registry.SiloName} does not take admin calls (Freshet:Silo:AdminCalls=false, roles {registry.Roles}): send them through a training silo's gateway");
        }
    }

    public Task<DeploymentStatus> StartDeploymentAsync(DeploymentSpec spec)
    {
        AdminPolicy.CheckSchema(spec.SchemaJson, $"model '{spec.Model}'");
        return Deployment(spec.Model, d => d.StartAsync(spec));
    }

    public Task<DeploymentStatus> SetModeAsync(string model, Mode mode, TimeSpan? every) => Deployment(model, d => d.SetModeAsync(mode, every));

    public Task<IReadOnlyList<DeploymentEvent>> TickAsync(string model, DateTime now) => Deployment(model, d => d.TickAsync(now));

    public Task<DeploymentStatus> CheckpointDeploymentAsync(string model) => Deployment(model, d => d.CheckpointAsync());

    public Task<DeploymentStatus> RollbackDeploymentAsync(string model, long version) => Deployment(model, d => d.RollbackAsync(version));

    public Task<DeploymentStatus> StopDeploymentAsync(string model) => Deployment(model, d => d.StopAsync());

    public Task<JobStatus> CreateJobAsync(string job, JobSpec spec)
    {
        AdminPolicy.CheckSchema(spec.SchemaJson, $"job '{job}'");
        return Job(job, j => j.CreateAsync(spec));
    }

    public Task<JobStatus> StartJobAsync(string job) => Job(job, j => j.StartAsync());

    public Task<JobStatus> PauseJobAsync(string job) => Job(job, j => j.PauseAsync());

    public Task<JobStatus> ResumeJobAsync(string job) => Job(job, j => j.ResumeAsync());

    public Task<JobStatus> StopJobAsync(string job) => Job(job, j => j.StopAsync());

    public Task<CheckpointResult> CheckpointJobAsync(string job) => Job(job, j => j.CheckpointAsync());

    public Task<PublishResult> PublishJobAsync(string job) => Job(job, j => j.PublishAsync());

    public Task<CheckpointResult> PublishJobCheckpointAsync(string job) => Job(job, j => j.PublishCheckpointAsync());

    public Task<JobStatus> RestoreJobAsync(string job, long version, string fromModel) => Job(job, j => j.RestoreAsync(version, fromModel));

    public Task<JobStatus> RollbackJobAsync(string job, long version) => Job(job, j => j.RollbackAsync(version));
}
