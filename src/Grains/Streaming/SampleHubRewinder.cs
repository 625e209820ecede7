using Microsoft.Extensions.Logging;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>
/// Restoring a checkpoint that holds samples from Event Hubs partitions (azure profile): asks each of those partitions'
/// receivers to read again from the checkpoint's resume offset (<see cref="HubCheckpoints.RewindAsync"/>), and restarts
/// the hub's receivers on every silo so that they do. The restored job's trainers skip what the checkpoint holds by
/// position; other jobs' trainers on the same hub drop what they had received already.
/// </summary>
public sealed partial class SampleHubRewinder(HubCheckpoints store, IReadOnlyDictionary<string, string> providerOfHub, IGrainFactory grains, ILogger<SampleHubRewinder> logger)
{
    /// <summary>
    /// Rewinds every source of <paramref name="resumeOffsets"/> (<c>{hub}/{partition}</c> to offset) this cluster reads;
    /// returns what it did, one line per hub partition, and what it could not (a hub this cluster does not read).
    /// </summary>
    public async Task<IReadOnlyList<string>> RewindAsync(IReadOnlyDictionary<string, string> resumeOffsets, CancellationToken cancellationToken = default)
    {
        var done = new List<string>();
        var byProvider = new Dictionary<string, List<(string Partition, string Offset)>>(StringComparer.Ordinal);
        foreach (var (source, offset) in resumeOffsets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var cut = source.LastIndexOf('/');
            var hub = cut > 0 ? source[..cut] : source;
            if (cut <= 0 || !providerOfHub.TryGetValue(hub, out var provider))
            {
                LogUnknownHub(logger, source, offset);
                done.Add($"{source}: not a samples hub of this cluster; replay it from offset {offset} by hand");
                continue;
            }
            if (!byProvider.TryGetValue(provider, out var list)) byProvider[provider] = list = [];
            list.Add((source[(cut + 1)..], offset));
        }
        var management = grains.GetGrain<IManagementGrain>(0);
        foreach (var (provider, partitions) in byProvider)
        {
            // Stopped first: a receiver that stops commits its delivery progress, which must not land after the rewind.
            await management.SendControlCommandToProvider<PersistentStreamProvider>(provider, (int)PersistentStreamProviderCommand.StopAgents);
            try
            {
                foreach (var (partition, offset) in partitions)
                {
                    await store.RewindAsync(provider, partition, offset, cancellationToken);
                    done.Add($"{provider} partition {partition}: from offset {offset}");
                }
            }
            finally
            {
                await management.SendControlCommandToProvider<PersistentStreamProvider>(provider, (int)PersistentStreamProviderCommand.StartAgents);
            }
            LogRewound(logger, provider, string.Join(", ", partitions.Select(p => $"{p.Partition} at {p.Offset}")));
        }
        return done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Samples hub {Provider}: receivers restarted to read again from the restored checkpoint's offsets (partition at offset: {Partitions})")]
    private static partial void LogRewound(ILogger logger, string provider, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The restored checkpoint holds samples of {Source} up to offset {Offset}, but this cluster reads no such samples hub: nothing was rewound; replay that partition from the offset, or the samples after it are not trained")]
    private static partial void LogUnknownHub(ILogger logger, string source, string offset);
}
