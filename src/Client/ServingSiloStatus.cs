using Freshet.Serving;

namespace Freshet.Client;

/// <summary>One silo's part in serving a model.</summary>
/// <param name="Silo">The silo's address.</param>
/// <param name="Roles">Its roles (training, serving, admin calls); null when it did not answer.</param>
/// <param name="Replica">Its replica of the model, on a serving silo that holds one.</param>
/// <param name="Error">Why the replica (or the silo) is missing.</param>
public sealed record ServingSiloStatus(string Silo, SiloRoleInfo? Roles, ReplicaStatus? Replica, string? Error);
