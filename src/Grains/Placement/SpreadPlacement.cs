#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

[GenerateSerializer, Immutable, Alias("Freshet.Grains.Placement.SpreadPlacement")]
public sealed class SpreadPlacement : PlacementStrategy
{
    public static readonly SpreadPlacement Instance = new();

    /// <summary>The silo for <paramref name="key"/> among <paramref name="silos"/> (a key without an index takes index 0).</summary>
    public static SiloAddress SiloFor(string key, IReadOnlyCollection<SiloAddress> silos)
    {
        if (silos.Count == 0) throw new OrleansException($"no silo can take grain {key}");
        var ordered = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        var (name, index) = GrainKeys.TrySplit(key, out var n, out var i) ? (n, i) : (key, 0);
        var slot = (Freshet.Model.Hashing.IdHasher.Hash(name) + (ulong)index) % (ulong)ordered.Length;
        return ordered[slot];
    }
}

internal sealed class SpreadPlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        // A migration (or a caller) that names a silo gets it, as Orleans' own directors do.
        if (target.RequestContextData is { } data && data.TryGetValue(IPlacementDirector.PlacementHintKey, out var hinted) && hinted is SiloAddress hint && compatible.Contains(hint))
        {
            return Task.FromResult(hint);
        }
        var silos = TrainingSiloFilterDirector.Narrow(metadata, compatible, m => RoleMetadata.Of(m).Training);
        return Task.FromResult(SpreadPlacement.SiloFor(target.GrainIdentity.Key.ToString() ?? "", silos));
    }

}
