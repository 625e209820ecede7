using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>Options of the samples hubs' checkpointer (configured on <see cref="HubCheckpoints"/>; Orleans asks for an options type).</summary>
public sealed class HubCheckpointOptions
{
}

/// <summary>The checkpointer factory of one samples hub's stream provider.</summary>
internal sealed class HubCheckpointerFactory(HubCheckpoints store, string provider) : IStreamQueueCheckpointerFactory
{
    [Obsolete("Use the overload that takes a CancellationToken.")]
    public Task<IStreamQueueCheckpointer<string>> Create(string partition) => store.CreateAsync(provider, partition);

    public Task<IStreamQueueCheckpointer<string>> Create(string partition, CancellationToken cancellationToken) => store.CreateAsync(provider, partition, cancellationToken);
}
