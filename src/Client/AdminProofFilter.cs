using System.Security.Cryptography.X509Certificates;
using Freshet.Admin;
using Orleans.Runtime;
using Orleans.Serialization;

namespace Freshet.Client;

/// <summary>
/// Signs this client's admin calls with its TLS certificate (<see cref="AdminProof"/>), each call with its own nonce and
/// the digest of its arguments: a silo with TLS on takes them when that certificate is one of its admin certificates.
/// Other calls go out as they are.
/// </summary>
internal sealed class AdminProofFilter(X509Certificate2 certificate, TimeProvider time, Serializer serializer) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod is { } method && ClientDoors.AccessOf(method) == ClientAccess.Admin)
        {
            var arguments = AdminProof.AsReceived(context.Request, serializer);
            RequestContext.Set(AdminProof.Key, AdminProof.Create(certificate, context.TargetId.ToString(), ClientDoors.Describe(method), arguments, time.GetUtcNow().UtcDateTime));
            try
            {
                await context.Invoke();
            }
            finally
            {
                RequestContext.Remove(AdminProof.Key);
            }
            return;
        }
        await context.Invoke();
    }
}
