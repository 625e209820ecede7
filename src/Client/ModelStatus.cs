using Freshet.Deployments;
using Freshet.Serving;

namespace Freshet.Client;

/// <summary>A model as the cluster serves it.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Deployment">Mode, serving version, schedules, jobs and recent transitions.</param>
/// <param name="Silos">Every active silo: its roles and, on serving silos, its replica of the model.</param>
public sealed record ModelStatus(string Model, DeploymentStatus Deployment, IReadOnlyList<ServingSiloStatus> Silos)
{
    /// <summary>The replicas of the model on the serving silos that hold one.</summary>
    public IEnumerable<ReplicaStatus> Replicas => Silos.Select(s => s.Replica).OfType<ReplicaStatus>();

    /// <summary>The last publish: of Model B in promotion mode, else of the main job.</summary>
    public DateTime? LastPublishUtc => (Deployment.Mode == Mode.Promotion ? Deployment.B : Deployment.Main)?.LastPublishUtc;

    /// <summary>The feedback loop (null when the deployment has none): its joiners and what serving answered, per weights version.</summary>
    public FeedbackStatus? Feedback { get; init; }
}
