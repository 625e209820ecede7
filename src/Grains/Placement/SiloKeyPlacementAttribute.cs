#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Freshet.Grains.Placement;

/// <summary>Places a grain whose key ends with <c>/{silo address}</c> (or is one) on that silo; while that silo is active, nowhere else.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Instance);
