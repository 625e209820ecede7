using Freshet.Admin;
using Orleans.Runtime;

namespace Freshet.Grains.Admin;

/// <summary>
/// The client boundary, as an allowlist (<see cref="ClientDoors"/>): a client may score, read status, and
/// make admin calls on job and deployment grains; every other Freshet grain method refuses client callers
/// with an error naming what to call instead. An admin call is checked where it runs (Orleans forwards a
/// client's call from any gateway to the grain's silo): this silo must take admin calls, the grain's key
/// must be a name (<see cref="AdminLimits.Name"/>), and with TLS on the call must carry a proof signed by an
/// admin certificate (<see cref="AdminProof"/>). Grains and silo code (the silo's hosted client) are not clients.
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
                    throw new ClientCallRefusedException($"{ClientDoors.Describe(method)} on '{context.TargetId.Key}' is not open to clients: score through IScoringGrain (FreshetClient.ScoreAsync), read status with FreshetClient.GetStatusAsync, and make admin calls on a job or deployment (FreshetClient.Job, FreshetClient.Deployment)");
                case ClientAccess.Admin when !registry.Roles.AdminCalls:
                    throw new AdminCallsDisabledException($"{ClientDoors.Describe(method)} on '{context.TargetId.Key}': silo {registry.SiloName} does not take admin calls (Freshet:Silo:AdminCalls=false, roles {registry.Roles}){(ClientDoors.KeyNamesOf(method) is null ? "" : "; jobs and deployments are placed on training silos that take them, and none was known when this one was placed: run one")}");
                case ClientAccess.Admin:
                    if (ClientDoors.KeyNamesOf(method) is { } what) AdminLimits.CheckName(context.TargetId.Key.ToString(), what);
                    if (policy.AdminCertificates is null) break;
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
