#pragma warning disable ORLEANSEXP004 // silo metadata and placement filters are marked experimental in Orleans 10
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

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
