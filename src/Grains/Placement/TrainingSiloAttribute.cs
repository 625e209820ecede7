#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

/// <summary>Places a grain on a silo with the training role (jobs, trainers, shards, dense and deployment grains).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class TrainingSiloAttribute() : PlacementFilterAttribute(new TrainingSiloFilter());
