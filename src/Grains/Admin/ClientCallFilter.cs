using Freshet.Admin;
using Orleans.Runtime;

namespace Freshet.Grains.Admin;

/// <summary>
/// The client boundary, as an allowlist (<see cref="ClientDoors"/>): a client may score, read status, and
/// make admin calls through the admin front door; every other Freshet grain method refuses client callers
/// with an error naming the door to use. With TLS on, admin calls also take a proof signed by an admin
/// certificate (<see cref="AdminProof"/>). Grains and silo code (the silo's hosted client) are not clients.
/// </summary>
public sealed class ClientCallFilter(AdminPolicy policy, Serving.ServingRegistry registry, TimeProvider time) : IIncomingGrainCallFilter
{
    private const string HostedClientPrefix = "hosted-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.SourceId is { } source && GrainTypePrefix.IsClient(source) && !IsHostedClient(source) && context.InterfaceMethod is { } method)
        {
            switch (ClientDoors.AccessOf(method))
            {
                case ClientAccess.None:
                    throw new ClientCallRefusedException($"{ClientDoors.Describe(method)} on '{context.TargetId.Key}' is not open to clients: score through the scoring front door (IScoringGrain, FreshetClient.ScoreAsync), read status with FreshetClient.GetStatusAsync, and send admin calls through a silo's admin front door (IAdminGrain, FreshetClient's admin methods)");
                case ClientAccess.Admin when !policy.Enabled:
                    throw new AdminCallsDisabledException($"silo {registry.SiloName} does not take admin calls (Freshet:Silo:AdminCalls=false, roles {registry.Roles}): send them through a training silo's gateway");
                case ClientAccess.Admin when policy.AdminCertificates is not null:
                    var certificate = AdminProof.Verify(RequestContext.Get(AdminProof.Key) as string, context.TargetId.ToString(), ClientDoors.Describe(method), time.GetUtcNow().UtcDateTime);
                    if (!policy.IsAdmin(certificate))
                    {
                        throw new ClientCallRefusedException($"{ClientDoors.Describe(method)}: certificate {certificate.Subject} (thumbprint {certificate.Thumbprint}) may score and read status but is not an admin certificate; admin calls take a certificate listed in Freshet:Silo:AdminCertificates");
                    }
                    break;
            }
        }
        return context.Invoke();
    }

    /// <summary>Calls made by code running in a silo (not in a grain) come from that silo's hosted client.</summary>
    private static bool IsHostedClient(GrainId source) => source.Key.ToString()!.StartsWith(HostedClientPrefix, StringComparison.Ordinal);
}
