#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

/// <summary>
/// Places a grain that clients make admin calls on (jobs, deployments) on a training silo that takes admin
/// calls: admin calls go straight to these grains, so where they live is where admin calls are taken.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AdminSiloAttribute() : PlacementFilterAttribute(new AdminSiloFilter());
