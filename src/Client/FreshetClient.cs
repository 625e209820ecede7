using Orleans;
using Orleans.Runtime;

namespace Freshet.Client;

/// <summary>The typed client of a Freshet cluster.</summary>
public sealed class FreshetClient(IClusterClient cluster)
{
    /// <summary>The silos the cluster's membership lists, with their status.</summary>
    public async Task<IReadOnlyList<SiloInfo>> GetSilosAsync(bool onlyActive = true)
    {
        var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive);
        return [.. hosts.Select(h => new SiloInfo(h.Key.ToString(), h.Value.ToString())).OrderBy(s => s.Address, StringComparer.Ordinal)];
    }
}
