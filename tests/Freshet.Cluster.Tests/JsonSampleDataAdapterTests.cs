using Freshet.Model.Telemetry;
using Freshet.Model.Data;
using System.Text;
using Azure.Messaging.EventHubs;
using Freshet.Grains.Hosting;
using Freshet.Grains.Streaming;
using Freshet.Grains.Weights;
using Freshet.Model.Hashing;
using Freshet.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using Orleans.Streaming.EventHubs;

namespace Freshet.Cluster.Tests;

/// <summary>The plain JSON samples adapter, without an Event Hubs namespace: events are built as the receiver would hand them over.</summary>
public class JsonSampleDataAdapterTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private static readonly SampleRouting Routing = new(new Dictionary<string, int> { ["shop-main"] = 4, ["shop-b"] = 1 });

    private static (JsonSampleDataAdapter Adapter, ListLogger Log) Adapter(string hub = "ctr-samples", TaskKind task = TaskKind.Ctr)
    {
        var log = new ListLogger();
        return (new JsonSampleDataAdapter(Serializer, hub, task, Routing, FreshetInstruments.Standalone().Instruments, log), log);
    }

    private static EventData Received(byte[] body, string? partitionKey = null, long sequence = 42, string offset = "4200") =>
        EventHubsModelFactory.EventData(new BinaryData(body), partitionKey: partitionKey, sequenceNumber: sequence, offsetString: offset, enqueuedTime: DateTimeOffset.UtcNow);

    /// <summary>What the pulling agent does with a received event: position, cached message, batch container.</summary>
    private static (StreamId Stream, SampleBatch Batch, string Offset) Receive(JsonSampleDataAdapter adapter, EventData data, string partition = "3")
    {
        var position = adapter.GetStreamPosition(partition, data);
        var cached = adapter.FromQueueMessage(position, data, DateTime.UtcNow, n => new ArraySegment<byte>(new byte[n]));
        var container = adapter.GetBatchContainer(ref cached);
        Assert.Equal(position.StreamId, container.StreamId);
        return (container.StreamId, Assert.Single(container.GetEvents<SampleBatch>()).Item1, adapter.GetOffset(cached));
    }

    [Fact]
    public void Rows_written_for_a_stream_come_back_as_the_same_rows_on_the_same_stream()
    {
        var (adapter, log) = Adapter();
        // A CVR stream through the CTR hub's adapter: the task travels in the JSON, not only in the hub.
        var stream = SampleStreams.Id("shop-main", 2, TaskKind.Cvr);
        RawSample[] rows =
        [
            new() { Time = new DateTime(2026, 11, 28, 10, 0, 0, DateTimeKind.Utc).Ticks + 1234567, Label = 1, Fields = new() { ["user"] = "u1", ["item"] = "i9", ["price"] = "12.5" } },
            new() { Time = new DateTime(2026, 11, 28, 10, 0, 1, DateTimeKind.Utc).Ticks, Label = 0, Fields = new() { ["user"] = "u \"2\"", ["item"] = "ï9" }, Index = 1 },
        ];
        var sent = adapter.ToQueueMessage(stream, [new SampleBatch { Rows = rows, Count = 2 }], null, null);
        Assert.StartsWith("[{\"job\":\"shop-main\"", Encoding.UTF8.GetString(sent.EventBody.ToArray()), StringComparison.Ordinal);

        var (received, batch, offset) = Receive(adapter, Received(sent.EventBody.ToArray(), partitionKey: adapter.GetPartitionKey(stream)));

        Assert.Equal(stream, received);
        Assert.Equal("4200", offset);
        Assert.Equal(2, batch.Count);
        Assert.Equal(rows.Length, batch.Rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i].Time, batch.Rows[i].Time);
            Assert.Equal(rows[i].Label, batch.Rows[i].Label);
            Assert.Equal(rows[i].Index, batch.Rows[i].Index);
            Assert.Equal(rows[i].Fields.OrderBy(f => f.Key), batch.Rows[i].Fields.OrderBy(f => f.Key));
        }
        Assert.Contains("sequence 42 offset 4200", batch.Origin, StringComparison.Ordinal);
        Assert.Empty(log.Entries);
    }

    [Fact]
    public void A_producers_array_event_routes_by_its_partition_key_and_takes_the_hubs_task()
    {
        var (adapter, log) = Adapter(hub: "cvr-samples", task: TaskKind.Cvr);
        var json = """
            [{"job":"shop-main","time":"2026-11-28T10:00:00Z","label":1,"fields":{"user":"u7","item":"i9","price":12.5,"promo":true,"unused":null}},
             {"job":"shop-main","time":1795860001,"label":false,"fields":{"user":"u7","item":"i3"}}]
            """;
        var (stream, batch, _) = Receive(adapter, Received(Encoding.UTF8.GetBytes(json), partitionKey: "user-7"));

        var partition = (int)(IdHasher.Hash("user-7") % 4);
        Assert.Equal(SampleStreams.Id("shop-main", partition, TaskKind.Cvr), stream);
        Assert.Equal(2, batch.Rows.Length);
        Assert.Equal(new DateTime(2026, 11, 28, 10, 0, 0, DateTimeKind.Utc).Ticks, batch.Rows[0].Time);
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1795860001).Ticks, batch.Rows[1].Time);
        Assert.Equal([1f, 0f], batch.Rows.Select(r => r.Label));
        Assert.Equal("12.5", batch.Rows[0].Fields["price"]);
        Assert.Equal("true", batch.Rows[0].Fields["promo"]);
        Assert.False(batch.Rows[0].Fields.ContainsKey("unused"));
        Assert.Empty(log.Entries);

        // Without a partition key, events take turns by sequence number; an explicit partition wins.
        Assert.Equal(SampleStreams.Key("shop-main", 7 % 4, TaskKind.Cvr), Receive(adapter, Received(Encoding.UTF8.GetBytes(json), sequence: 7)).Stream.GetKeyAsString());
        var pinned = """{"job":"shop-main","partition":1,"task":"ctr","time":"2026-11-28T10:00:00+01:00","label":0,"fields":{}}""";
        Assert.Equal(SampleStreams.Key("shop-main", 1, TaskKind.Ctr), Receive(adapter, Received(Encoding.UTF8.GetBytes(pinned), partitionKey: "user-7")).Stream.GetKeyAsString());
    }

    [Fact]
    public void Rows_are_numbered_by_their_events_sequence_number_in_the_hub_partition_so_a_checkpoint_can_say_how_far_it_holds()
    {
        var (adapter, _) = Adapter();
        var json = """
            [{"job":"shop-main","partition":0,"time":"2026-11-28T10:00:00Z","label":1,"fields":{"user":"u1"}},
             {"job":"shop-main","partition":0,"time":"yesterday","label":1,"fields":{"user":"u2"}},
             {"job":"shop-main","partition":0,"time":"2026-11-28T10:00:01Z","label":0,"fields":{"user":"u3"}}]
            """;
        var (_, batch, _) = Receive(adapter, Received(Encoding.UTF8.GetBytes(json), sequence: 5_000_000_000), partition: "2");
        // The bad row (1) is skipped, and the others keep their index: a replay of the event numbers them the same.
        Assert.Equal("ctr-samples/2", batch.Source);
        Assert.Equal([JsonSampleDataAdapter.PositionOf(5_000_000_000, 0), JsonSampleDataAdapter.PositionOf(5_000_000_000, 2)], batch.Positions);
        Assert.All(batch.Positions, p => Assert.Equal(5_000_000_000, JsonSampleDataAdapter.SequenceNumberOf(p)));
        // Along a partition, later events' rows come after every row of earlier ones.
        var (_, next, _) = Receive(adapter, Received(Encoding.UTF8.GetBytes(json), sequence: 5_000_000_001), partition: "2");
        Assert.True(next.Positions[0] > batch.Positions[^1]);
        // The same sequence number in another partition is another source.
        Assert.Equal("ctr-samples/7", Receive(adapter, Received(Encoding.UTF8.GetBytes(json), sequence: 5_000_000_000), partition: "7").Batch.Source);
        Assert.Equal("ctr@ctr-samples/2", SampleStreams.PositionKey(TaskKind.Ctr, batch.Source));
        Assert.True(SampleStreams.TrySplitPositionKey("3/ctr@ctr-samples/2", out var trainer, out var key));
        Assert.Equal((3, "ctr@ctr-samples/2"), (trainer, key));
        // A cached message asked for without its position first (no partition known) is left unnumbered, never misnumbered.
        var data = Received(Encoding.UTF8.GetBytes(json), sequence: 9);
        var cached = adapter.FromQueueMessage(new StreamPosition(SampleStreams.Id("shop-main", 0, TaskKind.Ctr), new EventHubSequenceTokenV2("9", 9, 0)), data, DateTime.UtcNow, n => new ArraySegment<byte>(new byte[n]));
        var unnumbered = Assert.Single(adapter.GetBatchContainer(ref cached).GetEvents<SampleBatch>()).Item1;
        Assert.Empty(unnumbered.Positions);
        Assert.Null(unnumbered.Source);
    }

    [Fact]
    public void Bad_rows_are_skipped_and_logged_with_where_they_were_and_the_fix_and_nothing_throws()
    {
        var (adapter, log) = Adapter();
        var json = """
            [{"job":"shop-main","partition":0,"time":"2026-11-28T10:00:00Z","label":1,"fields":{"user":"u1"}},
             {"job":"shop-main","partition":0,"time":"2026-11-28T10:00:00Z","label":0.5,"fields":{"user":"u2"}},
             {"job":"shop-main","partition":0,"time":"yesterday","label":1,"fields":{"user":"u3"}},
             {"job":"shop-main","partition":0,"time":"2026-11-28T10:00:00Z","label":1,"fields":{"tags":["a","b"]}},
             {"job":"shop-main","partition":9,"time":"2026-11-28T10:00:00Z","label":1,"fields":{}},
             {"job":"shop-main","partition":1,"time":"2026-11-28T10:00:00Z","label":1,"fields":{}},
             {"job":"shop-mian","time":"2026-11-28T10:00:00Z","label":1,"fields":{}},
             {"job":"shop-main","partition":0,"time":"2026-11-28T10:00:00Z","label":1,"fields":{},"user":"u9"}]
            """;
        var (stream, batch, _) = Receive(adapter, Received(Encoding.UTF8.GetBytes(json), sequence: 77, offset: "9100"), partition: "5");

        Assert.Equal(SampleStreams.Key("shop-main", 0, TaskKind.Ctr), stream.GetKeyAsString());
        Assert.Equal(["u1"], batch.Rows.Select(r => r.Fields["user"]));
        Assert.Equal(7, log.Entries.Count);
        Assert.All(log.Entries, e => Assert.Contains("hub ctr-samples partition 5 sequence 77 offset 9100", e, StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 1 property label", StringComparison.Ordinal) && e.Contains("give 1 (clicked / converted) or 0", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 2 property time", StringComparison.Ordinal) && e.Contains("'yesterday'", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 3 property tags", StringComparison.Ordinal) && e.Contains("is an array", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 4 property partition", StringComparison.Ordinal) && e.Contains("0..3", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 5 property job", StringComparison.Ordinal) && e.Contains("one event feeds one trainer stream", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 6 property job", StringComparison.Ordinal) && e.Contains("Freshet:Silo:SampleJobs:shop-mian", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("row 7 property user", StringComparison.Ordinal) && e.Contains("model fields go inside \"fields\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("not json at all", "is not JSON")]
    [InlineData("42", "is a JSON number")]
    [InlineData("""{"job":"nobody","time":"2026-11-28T10:00:00Z","label":1,"fields":{}}""", "job 'nobody' is not fed by this silo")]
    public void An_event_with_no_routable_row_goes_to_a_stream_no_trainer_reads(string body, string problem)
    {
        var (adapter, log) = Adapter();
        var (stream, batch, _) = Receive(adapter, Received(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(StreamId.Create(JsonSampleDataAdapter.RejectedNamespace, "ctr-samples"), stream);
        Assert.Empty(batch.Rows);
        Assert.Contains(problem, Assert.Single(log.Entries), StringComparison.Ordinal);
    }

    [Fact]
    public void Featurized_batches_and_end_markers_are_refused_on_a_json_hub_with_the_provider_to_use()
    {
        var (adapter, _) = Adapter();
        var stream = SampleStreams.Id("shop-main", 0, TaskKind.Ctr);
        var e = Assert.Throws<ArgumentException>(() => adapter.ToQueueMessage(stream, [new SampleBatch { Payload = [1, 2, 3], Count = 1 }], null, null));
        Assert.Contains($"'{FreshetNames.StreamProvider}' stream provider", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => adapter.ToQueueMessage(StreamId.Create(WeightsChannel.Namespace, "m"), [new SampleBatch()], null, null));
    }

    [Fact]
    public void The_largest_weight_chunk_fits_an_Event_Hubs_event_with_Orleans_framing()
    {
        // Event Hubs (standard tier) refuses events over 1 MB; the weights stream uses the default adapter.
        var adapter = new EventHubDataAdapter(Serializer);
        var chunk = new WeightMessage { Kind = WeightMessageKind.Delta, Model = new string('m', 64), Payload = new byte[WeightChunking.Large.MaxChunkBytes], Chunk = 1, Chunks = 2, Seal = new byte[32] };
        var data = adapter.ToQueueMessage(StreamId.Create(WeightsChannel.Namespace, chunk.Model), [chunk], null, new Dictionary<string, object> { ["traceparent"] = new string('0', 55) });
        Assert.InRange(data.EventBody.ToMemory().Length, WeightChunking.Large.MaxChunkBytes, 1024 * 1024 - 16 * 1024);
    }

    private sealed class ListLogger : ILogger<JsonSampleDataAdapter>
    {
        public List<string> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Entries.Add(formatter(state, exception));
    }
}
