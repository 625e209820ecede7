using System.Reflection;
using Freshet.Client;
using Freshet.Feedback;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Samples;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace Freshet.Cluster.Tests;

/// <summary>What a serving silo holds is bounded: models loaded, and nothing cached for the process.</summary>
public class ServingLimitsTests
{
    private static readonly IReadOnlyList<ScoreRow> Row = [ScoreRow.Of(("user", "u1"), ("item", "i1"))];

    [Fact]
    public async Task A_silo_holds_at_most_its_limit_of_models_and_unloads_the_one_used_least_recently()
    {
        await using var h = await ClusterHarness.StartAsync(limits: l => l.MaxServedModels = 2);
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        using (var model = new InProcessParameterStore(schema))
        {
            foreach (var name in new[] { "one", "two", "three" }) await ModelCheckpoint.SaveAsync(h.Checkpoints, model, null, 0, "all", modelName: name);
        }
        var client = new FreshetClient(h.Client);
        var registry = h.Cluster.Silos[0].ServiceProvider.GetRequiredService<ServingRegistry>();
        await client.ScoreAsync("one", Row);
        await client.ScoreAsync("two", Row);
        await client.ScoreAsync("one", Row); // "two" is now the least recently used
        await client.ScoreAsync("three", Row);
        Assert.Equal(2, registry.Count);
        Assert.True(registry.Holds("one"));
        Assert.False(registry.Holds("two"));
        Assert.True(registry.Holds("three"));
        // Unloaded, not lost: a later call loads it again from the store (and unloads the least used of the others).
        Assert.Single(await client.ScoreAsync("two", Row));
        Assert.Equal(2, registry.Count);
        Assert.False(registry.Holds("one"));
    }

    [Fact]
    public void Scoring_keeps_no_process_wide_cache()
    {
        // The featurizers were a static dictionary keyed by model and checkpoint that gained an entry per checkpoint for good;
        // each loaded replica now has its own, gone with it.
        Assert.DoesNotContain(typeof(ServingScorer).GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic), f => !f.IsLiteral);
    }

    [Fact]
    public async Task Times_ahead_of_the_silos_clock_are_refused_and_counted_and_do_not_move_a_joiners_clock()
    {
        await using var h = await ClusterHarness.StartAsync();
        var client = new FreshetClient(h.Client);
        const string model = "clock";
        var spec = await h.ServeAsync(model, new FeedbackSpec { Joiners = 1, ClickWindow = TimeSpan.FromMinutes(30), AttributionWindow = TimeSpan.FromHours(2) }, samples: 2_000, shards: 1);
        var predictions = await client.ScoreAsync(model, Row);
        var joiner = h.Client.Joiner(model, 0);
        await PublishingTests.WaitAsync(async () => (await joiner.GetStatusAsync()).Predictions == 1, "serving logs the row for its joiner");

        // A label from a client whose clock says year 9999: before, it moved the joiner's clock there for good, closing
        // every pending window at once (as negatives) and none by time again.
        var future = new DateTime(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await client.ReportAsync(new PredictionId(model, 0, Guid.NewGuid()), FeedbackEvent.Click, future);
        var status = await joiner.GetStatusAsync();
        Assert.True(status.Now is null || status.Now < DateTime.UtcNow.AddHours(1), $"the joiner's clock stays near now (it is {status.Now:O})");
        Assert.Equal(1, status.PendingImpressions);
        Assert.Equal(1, status.TimesRejected);
        // The click that comes now still joins its impression.
        await client.ReportAsync(predictions[0].Id, FeedbackEvent.Click, DateTime.UtcNow);
        Assert.Equal(1, (await joiner.GetStatusAsync()).Clicks);

        // A scoring call that says it happens in the year 9999 is refused, naming the time and the allowance, and counted.
        var e = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync(model, Row, future));
        Assert.Contains("ahead of this silo's clock", e.Message, StringComparison.Ordinal);
        Assert.Contains("Freshet:Silo:MaxClockSkew", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await client.GetStatusAsync(model)).Replicas.Sum(r => r.TimesRejected));

        // Samples from a producer whose clock is a year ahead are dropped by the trainer and counted, not trained.
        var job = spec.JobOf(Freshet.Deployments.DeploymentJob.Main);
        // First the trainer takes what the joiner made of the joined click (it arrives on its own time; counted, it would
        // look like samples from the producer a year ahead): the 2,000 served samples and every sample the joiner sent.
        JobStatus jobBefore = null!;
        await PublishingTests.WaitAsync(async () =>
        {
            var made = await joiner.GetStatusAsync();
            jobBefore = await client.GetJobStatusAsync(job);
            return jobBefore.Trainers.Sum(t => t.SamplesReceived) == 2_000 + made.CtrSamples + made.CvrSamples;
        }, "the trainer received the served samples and the joiner's");
        var ahead = SampleReader.Open(SchemaLoader.Load(TestData.Schema("synthetic.json")), SampleReader.SyntheticData).Read(10)
            .Select(s => new Sample { Task = TaskKind.Ctr, Time = DateTime.UtcNow.AddYears(1).Ticks, Label = s.Label, Ids = s.Ids, Bags = s.Bags, Numerics = s.Numerics }).ToList();
        await h.Client.GetGrain<ISampleIntakeGrain>(job).PublishAsync(0, TaskKind.Ctr, new SampleBatch { Payload = SampleCodec.Encode(ahead), Count = ahead.Count, Origin = "a producer a year ahead" });
        await PublishingTests.WaitAsync(async () => (await client.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesTimeRejected) == 10, "the trainer drops the ten samples a year ahead");
        Assert.Equal(jobBefore.Trainers.Sum(t => t.SamplesReceived), (await client.GetJobStatusAsync(job)).Trainers.Sum(t => t.SamplesReceived));
    }
}
