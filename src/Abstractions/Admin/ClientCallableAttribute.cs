namespace Freshet.Admin;

/// <summary>
/// Opens a grain interface (all its methods) or one method to clients, at the given access. Freshet's
/// grain interfaces without it answer grains and silo code only: a client reaches the cluster through
/// the scoring front door (<c>IScoringGrain</c>), the admin front door (<c>IAdminGrain</c>) and status reads.
/// </summary>
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Method, Inherited = false)]
public sealed class ClientCallableAttribute(ClientAccess access) : Attribute
{
    public ClientAccess Access { get; } = access;
}
