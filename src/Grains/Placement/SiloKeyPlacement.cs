#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

[GenerateSerializer, Immutable, Alias("Freshet.Grains.Placement.SiloKeyPlacement")]
public sealed class SiloKeyPlacement : PlacementStrategy
{
    public static readonly SiloKeyPlacement Instance = new();
}

internal sealed partial class SiloKeyPlacementDirector(IClusterMembershipService membership, Microsoft.Extensions.Logging.ILogger<SiloKeyPlacementDirector> logger) : IPlacementDirector
{
    public static string SiloOf(string key) => key[(key.LastIndexOf('/') + 1)..];

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var wanted = SiloAddress.FromParsableString(SiloOf(key));
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Contains(wanted)) return Task.FromResult(wanted);
        // Every silo runs every grain type: a silo this one knows is active takes its grains even before its
        // manifest has reached this silo (a silo that just joined would otherwise be skipped meanwhile).
        var status = membership.CurrentSnapshot.GetSiloStatus(wanted);
        if (status == SiloStatus.Active) return Task.FromResult(wanted);
        LogElsewhere(logger, key, status.ToString(), string.Join(", ", compatible.Select(s => s.ToParsableString())));
        // The silo is gone (a stream subscription or a caller still names it): the grain activates here,
        // sees it is not on its silo, and retires (see ReplicaGrain and ServingSiloGrain).
        return Task.FromResult(compatible.Contains(context.LocalSilo) ? context.LocalSilo : compatible[Random.Shared.Next(compatible.Length)]);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Grain {Key} names a silo that is {Status} here; placed elsewhere to retire (compatible silos: {Compatible})")]
    private static partial void LogElsewhere(Microsoft.Extensions.Logging.ILogger logger, string key, string status, string compatible);
}
