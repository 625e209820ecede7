#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

/// <summary>
/// Spreads a model's shards (keys <c>{model}/{shard}</c>) and a job's trainers (<c>{job}/{partition}</c>) evenly over the
/// training silos: index i of name n goes to the training silo at (hash(n) + i) mod count, in address order. Every silo
/// computes the same place from the same membership, so with k training silos each holds about 1/k of a model's
/// shards and of a job's trainers, and two models do not both start at the same silo.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SpreadOverTrainingSilosAttribute() : PlacementAttribute(SpreadPlacement.Instance);
