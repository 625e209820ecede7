namespace Freshet.Grains.Hosting;

/// <summary>
/// The largest weight-delta chunk the silo's stream provider carries in one message: 60 KB for memory streams and
/// Event Hubs, 32 KB under Azure Queue's 64 KB message limit (the payload is base64-encoded with Orleans' framing
/// around it). A stream copies each message several times (serialized, cached, read back, handed to the replica); at
/// 60 KB every copy is a small object the collector frees young. Chunks of up to a megabyte (Event Hubs' event limit,
/// <see cref="Large"/>) made each copy a large object, and a delta a second fragmented the silo's large-object heap.
/// </summary>
public sealed record WeightChunking(int MaxChunkBytes)
{
    public static readonly WeightChunking Default = new(60 * 1024);

    /// <summary>The most a chunk may be on Event Hubs (an event is at most 1 MB); replicas accept chunks up to it.</summary>
    public static readonly WeightChunking Large = new(Model.Serving.WeightDelta.MaxChunkBytes);

    public static readonly WeightChunking AzureQueue = new(32 * 1024);
}
