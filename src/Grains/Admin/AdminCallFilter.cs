using Freshet.Admin;
using Freshet.Deployments;
using Freshet.Jobs;
using Orleans.Runtime;

namespace Freshet.Grains.Admin;

/// <summary>
/// Calls that change a deployment or a job are taken from grains (the front door, the deployment's
/// schedules) but not straight from a client: a client goes through a silo's <see cref="IAdminGrain"/>,
/// so a silo with admin calls disabled cannot be used to reach them. Reads (<c>Get...</c>) are open.
/// </summary>
public sealed class AdminCallFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        var declaring = context.InterfaceMethod?.DeclaringType;
        if ((declaring == typeof(IDeploymentGrain) || declaring == typeof(ITrainingOrchestratorGrain))
            && context.SourceId is { } source && GrainTypePrefix.IsClient(source)
            && !context.MethodName.StartsWith("Get", StringComparison.Ordinal))
        {
            throw new AdminCallsDisabledException($"{context.InterfaceName}.{context.MethodName} on '{context.TargetId.Key}': admin calls from clients go through a silo's admin front door (FreshetClient, IAdminGrain), not to the grain itself");
        }
        return context.Invoke();
    }
}
