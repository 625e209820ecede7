using System.Text;
using Azure.Messaging.EventHubs;
using Freshet.Client;
using Freshet.Feedback;
using Freshet.Grains.Streaming;
using Freshet.Model.Telemetry;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;

namespace Freshet.Cluster.Tests;

/// <summary>The labels hub: plain JSON labels read as the receiver hands them over, and label streams routed to the joiners.</summary>
public class LabelsHubTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private static EventData Received(byte[] body, string? partitionKey = null) =>
        EventHubsModelFactory.EventData(new BinaryData(body), partitionKey: partitionKey, sequenceNumber: 7, offsetString: "700", enqueuedTime: DateTimeOffset.UtcNow);

    [Fact]
    public void Labels_written_for_the_hub_come_back_as_the_same_labels_and_bad_ones_are_named_and_skipped()
    {
        var log = new ListLogger();
        var adapter = new JsonLabelDataAdapter(Serializer, "labels", FreshetInstruments.Standalone().Instruments, log);
        var time = new DateTime(2026, 12, 5, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234567);
        FeedbackLabel[] labels =
        [
            new() { Prediction = PredictionId.New("shop", 4), Event = FeedbackEvent.Click, Time = time },
            new() { Prediction = PredictionId.New("shop", 4), Event = FeedbackEvent.Conversion, Time = time.AddHours(3) },
        ];
        var sent = adapter.ToQueueMessage(LabelStreams.Id("app"), [new LabelBatch { Labels = labels }], null, null);
        Assert.StartsWith("[{\"predictionId\":\"shop/", Encoding.UTF8.GetString(sent.EventBody.ToArray()), StringComparison.Ordinal);

        var data = Received(sent.EventBody.ToArray(), partitionKey: "user-17");
        var position = adapter.GetStreamPosition("2", data);
        Assert.Equal(LabelStreams.Id("labels/user-17"), position.StreamId);
        var cached = adapter.FromQueueMessage(position, data, DateTime.UtcNow, n => new ArraySegment<byte>(new byte[n]));
        var batch = Assert.Single(adapter.GetBatchContainer(ref cached).GetEvents<LabelBatch>()).Item1;
        Assert.Equal(labels, batch.Labels);
        Assert.Contains("hub labels sequence 7", batch.Origin, StringComparison.Ordinal);
        Assert.Empty(log.Entries);

        // One good label among bad ones: the good one goes on; each bad one is logged with where it was and how to fix it.
        var body = Encoding.UTF8.GetBytes($$"""
            [{"predictionId":"{{labels[0].Prediction}}","event":"click","time":"2026-12-05T10:00:00Z"},
             {"predictionId":"shop/x","event":"click","time":"2026-12-05T10:00:00Z"},
             {"predictionId":"{{labels[0].Prediction}}","event":"purchase","time":"2026-12-05T10:00:00Z"},
             {"predictionId":"{{labels[0].Prediction}}","event":"click","time":"yesterday"},
             {"predictionId":"{{labels[0].Prediction}}","event":"click","time":"2026-12-05T10:00:00Z","price":3}]
            """);
        var mixed = Received(body);
        var p = adapter.GetStreamPosition("0", mixed);
        var c = adapter.FromQueueMessage(p, mixed, DateTime.UtcNow, n => new ArraySegment<byte>(new byte[n]));
        Assert.Single(Assert.Single(adapter.GetBatchContainer(ref c).GetEvents<LabelBatch>()).Item1.Labels);
        Assert.Equal(4, log.Entries.Count);
        Assert.Contains(log.Entries, e => e.Contains("label 1 property predictionId", StringComparison.Ordinal) && e.Contains("{model}/{joiner}/{32 hex digits}", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("label 2 property event", StringComparison.Ordinal) && e.Contains("\"click\" or \"conversion\"", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("label 3 property time", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("property 'price' is not one", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Contains("hub labels partition 0 sequence 7 offset 700", StringComparison.Ordinal));

        Assert.Contains("the event is not JSON", Assert.Single(JsonLabelFormat.Read("{oops"u8).Rejected).Message);
    }

    [Fact]
    public async Task Labels_on_a_label_stream_reach_their_joiners_and_a_model_without_a_loop_does_not_stop_the_stream()
    {
        await using var h = await ClusterHarness.StartAsync();
        var client = new FreshetClient(h.Client);
        await h.ServeAsync("hub", new FeedbackSpec { Joiners = 2 }, samples: 2_000, shards: 1);
        var predictions = await client.ScoreAsync("hub", [.. Enumerable.Range(0, 6).Select(i => ScoreRow.Of(("user", "u" + i), ("item", "i" + i)))]);
        async Task<JoinerStatus[]> Joiners() => await Task.WhenAll(Enumerable.Range(0, 2).Select(j => h.Client.Joiner("hub", j).GetStatusAsync()));
        await PublishingTests.WaitAsync(async () => (await Joiners()).Sum(j => j.Predictions) == 6, "serving logs the rows");

        var stream = h.Streams.GetStream<LabelBatch>(LabelStreams.Id("app/1"));
        var now = DateTime.UtcNow;
        await stream.OnNextAsync(new LabelBatch { Labels = [new FeedbackLabel { Prediction = PredictionId.New("no-loop", 1), Event = FeedbackEvent.Click, Time = now }] });
        await stream.OnNextAsync(new LabelBatch { Labels = [.. predictions.Take(4).Select(p => new FeedbackLabel { Prediction = p.Id, Event = FeedbackEvent.Click, Time = now })] });
        await PublishingTests.WaitAsync(async () => (await Joiners()).Sum(j => j.Clicks) == 4, "the four clicks on the stream reach their joiners");
    }

    private sealed class ListLogger : ILogger<JsonLabelDataAdapter>
    {
        public List<string> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Entries.Add(formatter(state, exception));
    }
}
