#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

/// <summary>Silo metadata that carries a silo's roles to every other silo's placement.</summary>
public static class RoleMetadata
{
    public const string Key = "freshet-roles";

    /// <summary>Whether the silo takes admin calls from clients ("false" when it does not).</summary>
    public const string AdminKey = "freshet-admin-calls";

    public static SiloRoles Of(SiloMetadata metadata) =>
        metadata.Metadata.TryGetValue(Key, out var text) && !string.IsNullOrEmpty(text) ? SiloRoles.Parse(text) : SiloRoles.Both;

    public static bool TakesAdminCalls(SiloMetadata metadata) =>
        !metadata.Metadata.TryGetValue(AdminKey, out var text) || !string.Equals(text, "false", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Places a grain on a silo with the training role (jobs, trainers, shards, dense and deployment grains).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class TrainingSiloAttribute() : PlacementFilterAttribute(new TrainingSiloFilter());

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

/// <summary>
/// Places a grain that clients make admin calls on (jobs, deployments) on a training silo that takes admin
/// calls: admin calls go straight to these grains, so where they live is where admin calls are taken.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AdminSiloAttribute() : PlacementFilterAttribute(new AdminSiloFilter());

public sealed class AdminSiloFilter() : PlacementFilterStrategy(0);

/// <summary>Keeps training silos that take admin calls; failing those, training silos; failing those, the list as it is (see <see cref="TrainingSiloFilterDirector"/>).</summary>
internal sealed class AdminSiloFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        TrainingSiloFilterDirector.Narrow(metadata, silos, m => RoleMetadata.Of(m).Training, RoleMetadata.TakesAdminCalls);
}

/// <summary>Places a grain whose key ends with <c>/{silo address}</c> (or is one) on that silo; while that silo is active, nowhere else.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Instance);

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

/// <summary>
/// Spreads a model's shards (keys <c>{model}/{shard}</c>) and a job's trainers (<c>{job}/{partition}</c>) evenly over the
/// training silos: index i of name n goes to the training silo at (hash(n) + i) mod count, in address order. Every silo
/// computes the same place from the same membership, so with k training silos each holds about 1/k of a model's
/// shards and of a job's trainers, and two models do not both start at the same silo.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SpreadOverTrainingSilosAttribute() : PlacementAttribute(SpreadPlacement.Instance);

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
