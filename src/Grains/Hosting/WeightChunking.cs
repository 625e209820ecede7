namespace Freshet.Grains.Hosting;

/// <summary>
/// The largest weight-delta chunk the silo's stream provider carries in one message: 900 KB under
/// Event Hubs' 1 MB event limit and for memory streams, 32 KB under Azure Queue's 64 KB message limit
/// (the payload is base64-encoded with Orleans' framing around it).
/// </summary>
public sealed record WeightChunking(int MaxChunkBytes)
{
    public static readonly WeightChunking Large = new(Model.Serving.WeightDelta.MaxChunkBytes);

    public static readonly WeightChunking AzureQueue = new(32 * 1024);
}
