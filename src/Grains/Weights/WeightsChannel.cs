using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Freshet.Grains.Admin;
using Freshet.Grains.Hosting;
using Freshet.Grains.Streaming;
using Freshet.Model.Serving;
using Orleans.Streams;

namespace Freshet.Grains.Weights;

/// <summary>
/// The one way weights reach serving: a model's weights stream (<c>weights/{model}</c> on the silos' stream provider),
/// written by training silos (<see cref="SendDeltaAsync"/>, <see cref="AnnounceAsync"/>) and read by each serving silo's
/// replica (<see cref="SubscribeAsync"/>, <see cref="IsSealed"/>). Clients cannot write it: they register no stream
/// provider and Orleans' stream plumbing refuses them (<c>ClientCallFilter</c>); and every message is sealed with an
/// HMAC under a key derived from the <see cref="ClusterKey"/>, which clients never hold, so a message put on the stream's
/// transport by anyone else (an Azure queue or Event Hub written with its credentials) is dropped by the replica.
/// </summary>
public sealed class WeightsChannel(ClusterKey key, WeightChunking chunking)
{
    /// <summary>The stream provider the channel runs on: the silos' own (clients register none).</summary>
    public const string Provider = FreshetNames.StreamProvider;

    /// <summary>The stream namespace of weights: one stream per served model.</summary>
    public const string Namespace = "weights";

    private readonly byte[] _key = key.For("freshet/weights/v1");

    /// <summary>The served model's weights stream: deltas and announcements, in the order sent.</summary>
    public static IAsyncStream<WeightMessage> Stream(IGrainBase grain, string model) =>
        grain.GetStreamProvider(Provider).GetStream<WeightMessage>(StreamId.Create(Namespace, model));

    /// <summary>Sends an encoded delta in sealed chunks (at most the provider's chunk size each); returns how many.</summary>
    public async Task<int> SendDeltaAsync(IGrainBase grain, string model, WeightsVersion version, byte[] encoded, DateTime snapshotUtc)
    {
        var stream = Stream(grain, model);
        var chunks = WeightDelta.Chunk(encoded, chunking.MaxChunkBytes);
        for (var i = 0; i < chunks.Count; i++)
        {
            await stream.OnNextAsync(Seal(new WeightMessage
            {
                Kind = WeightMessageKind.Delta, Model = model, Weights = version, Chunk = i, Chunks = chunks.Count, Payload = chunks[i], SnapshotUtc = snapshotUtc,
            }));
        }
        return chunks.Count;
    }

    /// <summary>Announces <paramref name="weights"/> to the model's replicas: a checkpoint or rollback to serve, or the guard's good weights or rollback.</summary>
    public Task AnnounceAsync(IGrainBase grain, string model, WeightMessageKind kind, WeightsVersion weights)
    {
        if (kind == WeightMessageKind.Delta) throw new ArgumentException("deltas go out with SendDeltaAsync, in chunks", nameof(kind));
        return Stream(grain, model).OnNextAsync(Seal(new WeightMessage { Kind = kind, Model = model, Weights = weights, SnapshotUtc = DateTime.UtcNow }));
    }

    /// <summary>Subscribes <paramref name="reader"/> to the model's weights (or takes up its subscription, dropping extra ones); every message goes to <paramref name="deliver"/>, which acts on sealed ones only.</summary>
    /// <remarks>
    /// Retried through the stream plumbing's transient failures (a silo leaving while the subscription is told to the
    /// producers): each try starts from the subscriptions that exist, so a try that registered before it failed is resumed, not doubled.
    /// </remarks>
    public static Task<StreamSubscriptionHandle<WeightMessage>> SubscribeAsync(IGrainBase reader, string model, Func<WeightMessage, Task> deliver, bool fresh = false) =>
        StreamSubscriptions.ResumeOrSubscribeAsync(Stream(reader, model), (m, _) => deliver(m), fresh);

    /// <summary>Whether <paramref name="reader"/> holds a subscription to the model's weights.</summary>
    public static async Task<bool> IsSubscribedAsync(IGrainBase reader, string model) => (await Stream(reader, model).GetAllSubscriptionHandles()).Count > 0;

    /// <summary>Drops every subscription <paramref name="reader"/> holds to the model's weights.</summary>
    public static async Task UnsubscribeAsync(IGrainBase reader, string model)
    {
        foreach (var h in await Stream(reader, model).GetAllSubscriptionHandles()) await h.UnsubscribeAsync();
    }

    /// <summary><paramref name="message"/> with its seal: what silos send (and what tests deliver to a reader directly).</summary>
    public WeightMessage Seal(WeightMessage message) => message with { Seal = Mac(message) };

    /// <summary>Whether a silo of this cluster sealed <paramref name="message"/> as it is.</summary>
    public bool IsSealed(WeightMessage message) =>
        message.Seal is { Length: 32 } seal && CryptographicOperations.FixedTimeEquals(seal, Mac(message));

    private byte[] Mac(WeightMessage m)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        var model = Encoding.UTF8.GetBytes(m.Model ?? "");
        Span<byte> head = stackalloc byte[4 + 4 + 8 + 8 + 4 + 4 + 8 + 4];
        BinaryPrimitives.WriteInt32LittleEndian(head, (int)m.Kind);
        BinaryPrimitives.WriteInt32LittleEndian(head[4..], model.Length);
        BinaryPrimitives.WriteInt64LittleEndian(head[8..], m.Weights.Checkpoint);
        BinaryPrimitives.WriteInt64LittleEndian(head[16..], m.Weights.Delta);
        BinaryPrimitives.WriteInt32LittleEndian(head[24..], m.Chunk);
        BinaryPrimitives.WriteInt32LittleEndian(head[28..], m.Chunks);
        BinaryPrimitives.WriteInt64LittleEndian(head[32..], m.SnapshotUtc.Ticks);
        BinaryPrimitives.WriteInt32LittleEndian(head[40..], m.Payload?.Length ?? 0);
        hmac.AppendData(head);
        hmac.AppendData(model);
        hmac.AppendData(m.Payload ?? []);
        return hmac.GetHashAndReset();
    }
}
