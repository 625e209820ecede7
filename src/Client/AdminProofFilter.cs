using System.Security.Cryptography.X509Certificates;
using Freshet.Admin;
using Orleans;
using Orleans.Runtime;

namespace Freshet.Client;

/// <summary>
/// Signs this client's admin calls with its TLS certificate (<see cref="AdminProof"/>): a silo with TLS on
/// takes them when that certificate is one of its admin certificates. Other calls go out as they are.
/// </summary>
internal sealed class AdminProofFilter(X509Certificate2 certificate, TimeProvider time) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod is { } method && ClientDoors.AccessOf(method) == ClientAccess.Admin)
        {
            RequestContext.Set(AdminProof.Key, AdminProof.Create(certificate, context.TargetId.ToString(), ClientDoors.Describe(method), time.GetUtcNow().UtcDateTime));
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
