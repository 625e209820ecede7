using Freshet.Model.Data;
using Azure.Messaging.EventHubs;
using Freshet.Model.Telemetry;
using Freshet.Samples;
using Microsoft.Extensions.Logging;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>
/// Maps a samples hub's plain JSON events (<see cref="JsonSampleFormat"/>, no Orleans framing) to the sample
/// streams: each event to <c>samples/{job}/{partition}/{task}</c> as one <see cref="SampleBatch"/> of raw rows,
/// which the trainer featurizes with its job's schema. A bad row is skipped and logged with the hub, partition,
/// sequence number, offset, row and property; an event with no routable row goes to a stream no one reads
/// (namespace <see cref="RejectedNamespace"/>), so nothing here throws and the partition's pulling agent never stalls.
/// </summary>
public sealed partial class JsonSampleDataAdapter(Serializer serializer, string hub, TaskKind hubTask, SampleRouting routing, FreshetInstruments instruments, ILogger<JsonSampleDataAdapter> logger)
    : EventHubDataAdapter(serializer)
{
    /// <summary>Stream namespace of events that could not be routed (key: the hub): never subscribed, so dropped.</summary>
    public const string RejectedNamespace = "samples-rejected";

    private readonly Serializer _serializer = serializer;

    // The receiver asks for the position, then the cached message, of each event in turn on one thread: read it once.
    [ThreadStatic] private static (EventData Data, SampleEvent Event)? _last;

    // The hub partition of the event whose position was asked last on this thread (the cached message is asked next).
    [ThreadStatic] private static (EventData Data, string Partition)? _partition;

    /// <summary>Rows per event that positions can tell apart: a row's position is its event's sequence number times this, plus its index.</summary>
    public const int RowsPerEvent = 1 << 20;

    /// <summary>
    /// The position of row <paramref name="row"/> of the event with sequence number <paramref name="sequenceNumber"/>:
    /// increasing along a hub partition, so a checkpoint can say which of its events' rows it holds.
    /// </summary>
    public static long PositionOf(long sequenceNumber, int row) => sequenceNumber * RowsPerEvent + row;

    /// <summary>The sequence number of the event a position is in (the inverse of <see cref="PositionOf"/>).</summary>
    public static long SequenceNumberOf(long position) => position / RowsPerEvent;

    /// <summary>The source name positions from hub partition <paramref name="partition"/> count in: <c>{hub}/{partition}</c>.</summary>
    public string SourceOf(string partition) => $"{Hub}/{partition}";

    public string Hub { get; } = hub;

    public TaskKind HubTask { get; } = hubTask;

    /// <summary>Reads an event as the format says (no logging: see <see cref="GetStreamPosition"/>).</summary>
    public SampleEvent Read(EventData data)
    {
        if (_last is { } last && ReferenceEquals(last.Data, data)) return last.Event;
        var e = JsonSampleFormat.Read(data.EventBody.ToMemory().Span, HubTask, data.PartitionKey, data.SequenceNumber, routing);
        _last = (data, e);
        return e;
    }

    public override StreamId GetStreamIdentity(EventData queueMessage)
    {
        var e = Read(queueMessage);
        return e.Routed ? e.StreamId : StreamId.Create(RejectedNamespace, Hub);
    }

    /// <summary>Called once per received event, with the hub partition: where skipped rows are logged and counted.</summary>
    public override StreamPosition GetStreamPosition(string partition, EventData queueMessage)
    {
        var e = Read(queueMessage);
        _partition = (queueMessage, partition);
        foreach (var r in e.Rejected)
        {
            instruments.SamplesRejected.Add(1, FreshetTags.Of(job: e.Job).With("hub", Hub).With("reason", r.Reason));
            LogRejected(logger, Hub, partition, queueMessage.SequenceNumber, queueMessage.OffsetString, r.Row, r.Field ?? "-", r.Message);
        }
        return base.GetStreamPosition(partition, queueMessage);
    }

    /// <summary>
    /// Caches the event as an Orleans-framed <see cref="SampleBatch"/> of its good rows (with the event's offset and
    /// partition key, as the default adapter keeps them), each row numbered by the event's sequence number in its hub
    /// partition (<see cref="PositionOf"/>), so a checkpoint records how far into each partition its weights go.
    /// </summary>
    public override CachedMessage FromQueueMessage(StreamPosition streamPosition, EventData queueMessage, DateTime dequeueTime, Func<int, ArraySegment<byte>> getSegment)
    {
        var e = Read(queueMessage);
        // The partition comes with the position asked just before; without it (another caller), the rows go unnumbered.
        var partition = _partition is { } p && ReferenceEquals(p.Data, queueMessage) ? p.Partition : null;
        var numbered = partition is not null && e.Rows.Count > 0 && e.Rows.Max(r => r.Index) < RowsPerEvent;
        var batch = new SampleBatch
        {
            Rows = [.. e.Rows],
            Count = e.Rows.Count,
            Origin = $"hub {Hub} partition {partition ?? "?"} sequence {queueMessage.SequenceNumber} offset {queueMessage.OffsetString}",
            Positions = numbered ? [.. e.Rows.Select(r => PositionOf(queueMessage.SequenceNumber, r.Index))] : [],
            Source = numbered ? SourceOf(partition!) : null,
            SourceOffset = numbered ? queueMessage.OffsetString : null,
        };
        return base.FromQueueMessage(streamPosition, Framed(_serializer, streamPosition.StreamId, batch, queueMessage), dequeueTime, getSegment);
    }

    /// <summary>The producing side: a stream's raw-row batches as the same plain JSON a producer sends, so a round trip is exact.</summary>
    public override EventData ToQueueMessage<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (token is not null) throw new ArgumentException("Event Hubs streams take no sequence token", nameof(token));
        var (job, partition, task) = ParseStreamKey(streamId);
        var rows = new List<RawSample>();
        foreach (var item in events)
        {
            if (item is not SampleBatch batch) throw new ArgumentException($"the {Hub} hub carries plain JSON samples (SampleBatch rows), not {item?.GetType().Name ?? "null"}");
            if (batch.Payload.Length > 0 || batch.EndOfStream)
            {
                throw new ArgumentException($"the {Hub} hub carries plain JSON rows only; featurized batches and end markers (freshet replay) go on the '{FreshetNames.StreamProvider}' stream provider");
            }
            rows.AddRange(batch.Rows);
        }
        return new EventData(JsonSampleFormat.Write(job, partition, task, rows));
    }

    /// <summary>
    /// A plain JSON event's content as the Orleans-framed event the cache keeps (what the default adapter would have
    /// received), with the original's partition key, sequence number, offset and time: shared by the JSON adapters.
    /// </summary>
    internal static EventData Framed<T>(Serializer serializer, StreamId stream, T batch, EventData original) =>
        EventHubsModelFactory.EventData(EventHubBatchContainer.ToEventData(serializer, stream, [batch], null).EventBody, partitionKey: original.PartitionKey,
            sequenceNumber: original.SequenceNumber, offsetString: original.OffsetString, enqueuedTime: original.EnqueuedTime);

    /// <summary><c>samples/{job}/{partition}/{task}</c> back into its parts.</summary>
    public static (string Job, int Partition, TaskKind Task) ParseStreamKey(StreamId streamId) =>
        SampleStreams.TryParse(streamId, out var job, out var partition, out var task)
            ? (job, partition, task)
            : throw new ArgumentException($"stream '{streamId}' is not a sample stream ({FreshetNames.SamplesNamespace}/{{job}}/{{partition}}/ctr|cvr)");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a plain JSON sample: hub {Hub} partition {Partition} sequence {SequenceNumber} offset {Offset} row {Row} property {Field}: {Problem}")]
    private static partial void LogRejected(ILogger logger, string hub, string partition, long sequenceNumber, string offset, int row, string field, string problem);
}
