namespace Freshet.Hosting;

/// <summary>
/// Where a silo keeps its cluster and how a client reaches it. Configuration gives it as text (<c>local</c>,
/// <c>azurite</c>, <c>azure</c>); <see cref="FreshetProfiles.Parse"/> reads it once, at the edge, and the code after
/// that switches on this.
/// </summary>
public enum FreshetProfile
{
    /// <summary>One host: localhost clustering, memory streams, grain state and checkpoints in folders.</summary>
    Local,

    /// <summary>Azure Storage's emulator: membership in tables, queue streams, grain state and checkpoints in blobs.</summary>
    Azurite,

    /// <summary>Azure: storage and Event Hubs by managed identity, silos on their pod addresses.</summary>
    Azure,
}
