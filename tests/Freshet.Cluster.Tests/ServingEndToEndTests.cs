using Freshet.Grains.Placement;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Grains.Serving;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>A training silo and a serving silo; everything through the client SDK.</summary>
public class ServingEndToEndTests
{
    private static IReadOnlyList<ScoreRow> Rows() =>
    [
        ScoreRow.Of(("user", "u17"), ("item", "i4"), ("category", "c3"), ("device", "d1"), ("price", "12.5")),
        ScoreRow.Of(("user", "u-never-seen"), ("item", "i9"), ("category", "c7"), ("device", "d2"), ("price", "80")),
    ];

    [Fact]
    public async Task Predictions_change_after_a_publish_and_the_version_and_sequence_say_why()
    {
        await using var h = await ClusterHarness.StartAsync(2, roles: name => name is "Primary" or "Silo_0" ? new SiloRoles(true, false) : new SiloRoles(false, true));
        var training = h.Cluster.Silos[0];
        var serving = h.Cluster.Silos[1];
        var client = new FreshetClient(h.Client);
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        const string model = "e2e";
        var spec = new DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = 2, PublishInterval = TimeSpan.FromSeconds(1), Clock = ClockKind.Wall,
            DailyCheckpointAt = DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
        };
        await client.StartAsync(spec);
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(30_000).ToList();
        var publisher = new SamplePublisher(h.Client, spec.JobOf(DeploymentJob.Main), 1);
        await publisher.PublishAsync(samples.Take(10_000), end: false);

        // The first publish writes the base checkpoint; the serving silo's replica follows the deltas.
        ModelStatus status = null!;
        await PublishingTests.WaitAsync(async () => (status = await client.GetStatusAsync(model)).Replicas.Any(r => r.Weights?.Delta >= 1), "the serving silo applies a delta");
        var before = await client.ScoreAsync(model, Rows());
        Assert.Equal(2, before.Count);
        Assert.All(before, p => Assert.True(p.Ctr is > 0 and < 1 && p.Cvr is > 0 and < 1));
        Assert.All(before, p => Assert.Equal(p.Ctr * p.Cvr, p.Ctcvr, 6));
        Assert.All(before, p => Assert.True(p.WeightsAge >= TimeSpan.Zero && p.WeightsAge < TimeSpan.FromMinutes(1)));

        // Roles: the replica lives on the serving silo only, and the training grains on the training silo, with the version
        // serving is told to hold (a checkpoint's announcement must not depend on a serving silo that may die).
        var servingName = serving.SiloAddress.ToParsableString();
        Assert.Equal([servingName], status.Silos.Where(s => s.Replica is not null).Select(s => s.Silo));
        Assert.Null(training.ServiceProvider.GetRequiredService<ServingRegistry>().TryGet(model));
        var stats = await h.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var trainingTypes = stats.Where(s => s.GrainType.Contains("Trainer", StringComparison.Ordinal) || s.GrainType.Contains("EmbeddingShard", StringComparison.Ordinal) || s.GrainType.Contains("DenseGrain", StringComparison.Ordinal)
            || s.GrainType.Contains("ServingVersion", StringComparison.Ordinal)).ToList();
        Assert.Contains(trainingTypes, s => s.GrainType.Contains("ServingVersion", StringComparison.Ordinal));
        Assert.All(trainingTypes, s => Assert.Equal(training.SiloAddress, s.SiloAddress));

        // More training, the next publishes: the same rows score differently, on a later delta of the same checkpoint.
        await publisher.PublishAsync(samples.Skip(10_000), end: false);
        var beforeSequence = before[0].Weights.Delta;
        IReadOnlyList<Prediction> after = before;
        await PublishingTests.WaitAsync(async () => (after = await client.ScoreAsync(model, Rows()))[0].Weights.Delta >= beforeSequence + 2, "two more deltas are served");
        Assert.All(after, p => Assert.Equal(before[0].Weights.Checkpoint, p.Weights.Checkpoint));
        Assert.NotEqual(before[0].Ctr, after[0].Ctr);
        Assert.NotEqual(before[1].Ctr, after[1].Ctr);

        // A silo without the serving role hands scoring to a serving silo.
        var forwarded = await training.ServiceProvider.GetRequiredService<ServingScorer>().ScoreAsync(new ScoreRequest { Model = model, Rows = Rows() });
        Assert.Equal(2, forwarded.Count);

        // A checkpoint now: serving switches to the new version, predictions follow it.
        var checkpoint = await client.CheckpointAsync(model);
        Assert.True(checkpoint.ServingCheckpoint > before[0].Weights.Checkpoint);
        await PublishingTests.WaitAsync(async () => (await client.ScoreAsync(model, Rows()))[0].Weights.Checkpoint == checkpoint.ServingCheckpoint, "serving holds the new checkpoint");
        status = await client.GetStatusAsync(model);
        Assert.Equal(Mode.Daily, status.Deployment.Mode);
        Assert.NotNull(status.LastPublishUtc);
        var replica = Assert.Single(status.Replicas);
        Assert.Equal(checkpoint.ServingCheckpoint, replica.Weights?.Checkpoint);
        Assert.NotEmpty(replica.FreshnessMs);

        // Bad rows get an error naming the row and the field.
        var unknown = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync(model, [Rows()[0], ScoreRow.Of(("usr", "u1"))]));
        Assert.Contains("row 1", unknown.Message);
        Assert.Contains("'usr'", unknown.Message);
        var wrongType = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync(model, [ScoreRow.Of(("price", "cheap"))]));
        Assert.Contains("row 0", wrongType.Message);
        Assert.Contains("'price'", wrongType.Message);
        var tooMany = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync(model, [.. Enumerable.Repeat(Rows()[0], ScoreRequest.MaxRows + 1)]));
        Assert.Contains("split the batch", tooMany.Message);
        await client.StopAsync(model);
    }
}
