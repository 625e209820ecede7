using Azure.Messaging.EventHubs;
using Freshet.Feedback;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>
/// Maps the labels hub's plain JSON events (<see cref="JsonLabelFormat"/>) to label streams: each event to
/// <c>labels/{hub}/{partition key}</c> as one <see cref="LabelBatch"/>, which that stream's label router sends on to
/// the joiners. A bad label is skipped and logged with the hub, partition, sequence number, offset, index and property;
/// nothing here throws, so the partition's pulling agent never stalls.
/// </summary>
public sealed partial class JsonLabelDataAdapter(Serializer serializer, string hub, FreshetInstruments instruments, ILogger<JsonLabelDataAdapter> logger)
    : EventHubDataAdapter(serializer)
{
    private readonly Serializer _serializer = serializer;

    [ThreadStatic] private static (EventData Data, JsonLabelFormat.LabelEvent Event)? _last;

    public string Hub { get; } = hub;

    public JsonLabelFormat.LabelEvent Read(EventData data)
    {
        if (_last is { } last && ReferenceEquals(last.Data, data)) return last.Event;
        var e = JsonLabelFormat.Read(data.EventBody.ToMemory().Span);
        _last = (data, e);
        return e;
    }

    /// <summary>The label stream of an event: by hub and partition key, so producers' keys spread the routing.</summary>
    public override StreamId GetStreamIdentity(EventData queueMessage) => LabelStreams.Id($"{Hub}/{queueMessage.PartitionKey ?? "-"}");

    public override StreamPosition GetStreamPosition(string partition, EventData queueMessage)
    {
        var e = Read(queueMessage);
        foreach (var r in e.Rejected)
        {
            instruments.Labels.Add(1, new System.Diagnostics.TagList { { "hub", Hub }, { "outcome", "rejected" }, { "reason", r.Reason } });
            LogRejected(logger, Hub, partition, queueMessage.SequenceNumber, queueMessage.OffsetString, r.Row, r.Field ?? "-", r.Message);
        }
        return base.GetStreamPosition(partition, queueMessage);
    }

    public override CachedMessage FromQueueMessage(StreamPosition streamPosition, EventData queueMessage, DateTime dequeueTime, Func<int, ArraySegment<byte>> getSegment)
    {
        var e = Read(queueMessage);
        var batch = new LabelBatch { Labels = e.Labels, Origin = $"hub {Hub} sequence {queueMessage.SequenceNumber} offset {queueMessage.OffsetString}" };
        return base.FromQueueMessage(streamPosition, JsonSampleDataAdapter.Framed(_serializer, streamPosition.StreamId, batch, queueMessage), dequeueTime, getSegment);
    }

    /// <summary>The producing side: label batches as the same plain JSON a producer sends.</summary>
    public override EventData ToQueueMessage<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (token is not null) throw new ArgumentException("Event Hubs streams take no sequence token", nameof(token));
        var labels = new List<FeedbackLabel>();
        foreach (var item in events)
        {
            if (item is not LabelBatch batch) throw new ArgumentException($"the {Hub} hub carries labels (LabelBatch), not {item?.GetType().Name ?? "null"}");
            labels.AddRange(batch.Labels);
        }
        return new EventData(JsonLabelFormat.Write(labels));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a plain JSON label: hub {Hub} partition {Partition} sequence {SequenceNumber} offset {Offset} label {Row} property {Field}: {Problem}")]
    private static partial void LogRejected(ILogger logger, string hub, string partition, long sequenceNumber, string offset, int row, string field, string problem);
}
