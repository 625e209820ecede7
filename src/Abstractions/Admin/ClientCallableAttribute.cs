namespace Freshet.Admin;

/// <summary>
/// Opens a grain interface (all its methods) or one method to clients, at the given access. Freshet's
/// grain interfaces without it answer grains and silo code only: a client scores through
/// <c>IScoringGrain</c>, reads status, and makes admin calls on the grains that own what they change
/// (<c>IDeploymentGrain</c>, <c>ITrainingOrchestratorGrain</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Method, Inherited = false)]
public sealed class ClientCallableAttribute(ClientAccess access) : Attribute
{
    public ClientAccess Access { get; } = access;

    /// <summary>
    /// What the grain's key names (<c>job</c>, <c>model</c>), when it is a name a client chooses: the client
    /// boundary checks it with <see cref="AdminLimits.Name"/> before an admin call activates the grain.
    /// </summary>
    public string? KeyNames { get; init; }
}
