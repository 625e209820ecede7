using Freshet.Admin;
using Orleans.Concurrency;

namespace Freshet.Deployments;

/// <summary>
/// One per served model (key: its name): the daily / promotion state machine and its schedules
/// (publish interval, daily checkpoint, promotion switches, rollback), on a clock that is the wall
/// clock, the samples' event time, or explicit ticks. Its state is persisted.
/// Clients call it as admins (every method but <see cref="GetStatusAsync"/>, which any client may read):
/// the one definition of a deployment's admin operations.
/// </summary>
[ClientCallable(ClientAccess.Admin, KeyNames = "model")]
[Alias("Freshet.Deployments.IDeploymentGrain")]
public interface IDeploymentGrain : IGrainWithStringKey
{
    /// <summary>Creates the main job (or takes the existing one) and starts it in daily mode.</summary>
    [Alias("Start")] Task<DeploymentStatus> StartAsync(DeploymentSpec spec);

    /// <summary>Switches to daily or promotion mode (a full checkpoint serving switches to); refused while the guard has halted publishing (<see cref="ResumeAsync"/> first).</summary>
    [Alias("SetMode")] Task<DeploymentStatus> SetModeAsync(Mode mode, TimeSpan? every = null);

    /// <summary>Runs every schedule due at <paramref name="now"/> (the timer does this on wall or event time; tests call it).</summary>
    [Alias("Tick")] Task<IReadOnlyList<DeploymentEvent>> TickAsync(DateTime now);

    /// <summary>A full checkpoint now, which serving switches to; refused while the guard has halted publishing (<see cref="ResumeAsync"/> first).</summary>
    [Alias("Checkpoint")] Task<DeploymentStatus> CheckpointAsync();

    [Alias("Rollback")] Task<DeploymentStatus> RollbackAsync(long version);

    /// <summary>
    /// After the guard rolled back and halted publishing: the main job's training restored from the good weights'
    /// checkpoint (<see cref="Freshet.Feedback.ResumeFrom.Good"/>) or left as it is (<see cref="Freshet.Feedback.ResumeFrom.Line"/>),
    /// then a full checkpoint of it, which serving switches to, and publishing from it again (the guard judges the new
    /// line against the good weights).
    /// </summary>
    [Alias("Resume")] Task<DeploymentStatus> ResumeAsync(Freshet.Feedback.ResumeFrom from);

    [Alias("Stop")] Task<DeploymentStatus> StopAsync();

    [ClientCallable(ClientAccess.Read), AlwaysInterleave, Alias("GetStatus")] Task<DeploymentStatus> GetStatusAsync();
}
