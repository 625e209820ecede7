using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Freshet.Deployments;
using Freshet.Client;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;

namespace Freshet.Cluster.Tests;

public class ObservabilityTests
{
    [Fact]
    public async Task The_Freshet_meters_move_when_training_publishing_checkpointing_and_scoring_happen()
    {
        const string model = "metered";
        var values = new ConcurrentDictionary<string, double>();
        var counts = new ConcurrentDictionary<string, int>();
        IMeterFactory? silo = null; // set once the cluster is up: only its silo's meters count
        var untagged = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name.StartsWith("Freshet.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            // Other tests' silos run in this process: their instruments are their own meter factory's.
            if (silo is null || !ReferenceEquals(instrument.Meter.Scope, silo)) return;
            var names = new HashSet<string>();
            foreach (var t in tags) names.Add(t.Key);
            if (!names.Contains("model")) untagged.Add(instrument.Name);
            values.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
            counts.AddOrUpdate(instrument.Name, 1, (_, c) => c + 1);
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using var h = await ClusterHarness.StartAsync();
        silo = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMeterFactory>();
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var deployment = new Freshet.Client.FreshetClient(h.Client).Deployment(model);
        var spec = new DeploymentSpec { Model = model, SchemaJson = schema.Json, Shards = 2, Clock = ClockKind.Manual, PublishInterval = TimeSpan.FromMinutes(1) };
        await deployment.StartAsync(spec);
        var t0 = new DateTime(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc);
        await deployment.TickAsync(t0);
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(12_000).ToList();
        var publisher = new SamplePublisher(h.Client, spec.JobOf(DeploymentJob.Main), 1);
        await publisher.PublishAsync(samples.Take(6000), end: false);
        await PublishingTests.WaitTrainedAsync(h.Job(spec.JobOf(DeploymentJob.Main)), 6000);
        await deployment.TickAsync(t0.AddMinutes(1)); // the first publish: a checkpoint and delta 1
        var scoring = h.Client.GetGrain<IScoringGrain>(0);
        var row = ScoreRow.Of(("user", "u1"), ("item", "i1"), ("category", "c3"), ("device", "d1"), ("price", "10"));
        await scoring.ScoreAsync(new ScoreRequest { Model = model, Rows = [row, row] });
        await publisher.PublishAsync(samples.Skip(6000), end: false);
        await PublishingTests.WaitTrainedAsync(h.Job(spec.JobOf(DeploymentJob.Main)), samples.Count);
        await deployment.TickAsync(t0.AddMinutes(2)); // delta 2, with the rows trained since, reaches the replica that now exists
        await PublishingTests.WaitAsync(() => counts.ContainsKey("freshet.serving.freshness"), "a replica records freshness");
        listener.RecordObservableInstruments();

        Assert.Equal(samples.Count, values["freshet.training.samples"]);
        foreach (var name in new[] { "freshet.training.step.duration", "freshet.training.pull.duration", "freshet.training.push.duration", "freshet.barrier.pause", "freshet.checkpoint.duration", "freshet.serving.freshness", "freshet.serving.score.duration" })
        {
            Assert.True(counts.GetValueOrDefault(name) > 0, $"{name} recorded nothing");
        }
        Assert.True(values["freshet.publish.bytes"] > 0);
        Assert.True(values["freshet.publish.rows"] > 0);
        Assert.True(values["freshet.checkpoint.bytes"] > 0);
        Assert.Equal(2, values["freshet.serving.rows"]);
        Assert.True(counts["freshet.training.window.auc"] > 0); // 12k synthetic samples span two event-time hours
        Assert.Equal(3, values["freshet.deployment.transitions"]); // start, publish, publish
        Assert.Empty(untagged); // every measurement names its model
    }
}
