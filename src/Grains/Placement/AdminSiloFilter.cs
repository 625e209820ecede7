#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

public sealed class AdminSiloFilter() : PlacementFilterStrategy(0);

/// <summary>Keeps training silos that take admin calls; failing those, training silos; failing those, the list as it is (see <see cref="TrainingSiloFilterDirector"/>).</summary>
internal sealed class AdminSiloFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        TrainingSiloFilterDirector.Narrow(metadata, silos, m => RoleMetadata.Of(m).Training, RoleMetadata.TakesAdminCalls);
}
