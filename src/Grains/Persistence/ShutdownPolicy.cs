using Orleans.Storage;

namespace Freshet.Grains.Persistence;

internal static class ShutdownPolicy
{
    /// <summary>
    /// In-memory grain storage goes down with the last silo: writing to it while the silo shuts down
    /// only fails (its storage grains are gone), so deactivation skips that write.
    /// </summary>
    public static bool GrainStateDiesWithSilo(IGrainStorage storage, DeactivationReason reason) =>
        reason.ReasonCode == DeactivationReasonCode.ShuttingDown && storage.GetType().Name.Contains("Memory", StringComparison.Ordinal);
}
