using Freshet.Admin;
using Orleans.Serialization;

namespace Freshet.Grains.Admin;

/// <summary>
/// The client boundary, deny by default. A call that carries a good <see cref="SiloCallProof"/> is a silo's and goes
/// through; every other call is a client's, whatever its message says of its sender, and goes through only where
/// <see cref="ClientDoors"/> opens it: scoring, status reads, labels and samples, the Orleans client's own reads, and
/// admin calls on job and deployment grains. Anything else (Freshet's grains, Orleans' stream plumbing, system targets,
/// grain extensions) is refused with an error naming what to call instead. An admin call is checked where it runs (Orleans
/// forwards a client's call from any gateway to the grain's silo): this silo must take admin calls, the grain's key must
/// be a name (<see cref="AdminLimits.Name"/>), and with TLS on the call must carry a proof signed by an admin certificate
/// (<see cref="AdminProof"/>) for these arguments, not used before (<see cref="AdminNonces"/>). Proofs are taken off the
/// request context once checked, so grain code never passes one on. Grain timers' ticks, which Orleans queues on the
/// grain itself and never sends, go through as they are.
/// </summary>
public sealed class ClientCallFilter(AdminPolicy policy, Serving.ServingRegistry registry, TimeProvider time, SiloCallProof proofs, AdminNonces nonces, Serializer serializer)
    : IIncomingGrainCallFilter
{
    /// <summary>
    /// A grain timer's tick: Orleans queues it on its grain as a local message (never sent, never forwarded) whose request
    /// is the timer's own invoker, which implements this interface; a request read from the network never does.
    /// </summary>
    private static readonly Type TimerTick = Type.GetType("Orleans.Runtime.IGrainTimerInvoker, Orleans.Runtime")
        ?? throw new InvalidOperationException("Orleans.Runtime.IGrainTimerInvoker is not in this Orleans: the client boundary cannot tell grain timers' ticks; check ClientCallFilter against this Orleans version");

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (TimerTick.IsInstanceOfType(context.Request))
        {
            await context.Invoke();
            return;
        }
        var proof = RequestContext.Get(SiloCallProof.Key) as string;
        if (proof is not null)
        {
            RequestContext.Remove(SiloCallProof.Key);
            if (proofs.Verify(proof, context.InterfaceName, context.MethodName))
            {
                await context.Invoke();
                return;
            }
        }
        var method = context.InterfaceMethod;
        switch (ClientDoors.AccessOf(method))
        {
            case ClientAccess.None:
                throw new ClientCallRefusedException(ClientDoors.Refusal(method, context.TargetId.Key) + (proof is null ? "" :
                    $". The call carried a silo's proof this silo cannot verify: if it came from a silo of this cluster, give every silo the same {SiloKeySetting} (and check their clocks)"));
            case ClientAccess.Admin when !registry.Roles.AdminCalls:
                throw new AdminCallsDisabledException($"{ClientDoors.Describe(method)} on '{context.TargetId.Key}': silo {registry.SiloName} does not take admin calls (Freshet:Silo:AdminCalls=false, roles {registry.Roles}){(ClientDoors.KeyNamesOf(method) is null ? "" : "; jobs and deployments are placed on training silos that take them, and none was known when this one was placed: run one")}");
            case ClientAccess.Admin:
                if (ClientDoors.KeyNamesOf(method) is { } what) AdminLimits.CheckName(context.TargetId.Key.ToString(), what);
                if (policy.AdminCertificates is null) break;
                var described = ClientDoors.Describe(method);
                var check = AdminProof.Verify(RequestContext.Get(AdminProof.Key) as string, context.TargetId.ToString(), described,
                    AdminProof.Arguments(context.Request, serializer), time.GetUtcNow().UtcDateTime);
                if (!policy.IsAdmin(check.Certificate))
                {
                    throw new ClientCallRefusedException($"{described}: certificate {check.Certificate.Subject} (thumbprint {check.Certificate.Thumbprint}) may score and read status but is not an admin certificate; admin calls take a certificate listed in Freshet:Silo:AdminCertificates");
                }
                nonces.Take(check.Nonce, check.Made, described);
                RequestContext.Remove(AdminProof.Key);
                break;
            case ClientAccess.Produce:
                if (ClientDoors.KeyNamesOf(method) is { } named) AdminLimits.CheckName(context.TargetId.Key.ToString(), named);
                break;
        }
        await context.Invoke();
    }

    /// <summary>The setting of the key silos prove their calls with (<see cref="ClusterKey"/>).</summary>
    public const string SiloKeySetting = "Freshet:Silo:ClusterKey";
}
