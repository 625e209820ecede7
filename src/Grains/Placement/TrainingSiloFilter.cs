#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

public sealed class TrainingSiloFilter() : PlacementFilterStrategy(0);

/// <summary>
/// Keeps the candidates with the training role. While no candidate is known to train (another silo's
/// metadata not fetched yet, or a cluster without a training silo) it leaves the list alone: a grain
/// placed on a serving silo still works, a failed activation does not.
/// </summary>
internal sealed class TrainingSiloFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        Narrow(metadata, silos, m => RoleMetadata.Of(m).Training);

    /// <summary>Keeps the silos meeting each condition in turn, as long as any does; stops at the first that none meets.</summary>
    internal static IReadOnlyCollection<SiloAddress> Narrow(ISiloMetadataCache metadata, IEnumerable<SiloAddress> silos, params Func<SiloMetadata, bool>[] conditions)
    {
        var kept = silos as IReadOnlyCollection<SiloAddress> ?? [.. silos];
        foreach (var condition in conditions)
        {
            var narrower = kept.Where(s => condition(metadata.GetSiloMetadata(s))).ToList();
            if (narrower.Count == 0) break;
            kept = narrower;
        }
        return kept;
    }
}
