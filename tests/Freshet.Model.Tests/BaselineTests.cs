using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Metrics;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>Every report scores what users run today next to the model: each id field's running rate, and their mean.</summary>
public class BaselineTests
{
    [Fact]
    public async Task Each_id_fields_running_rate_and_their_mean_are_scored_on_the_same_samples()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var rng = new Random(3);
        // Items tell the label (item k clicks with probability k/10); users are noise.
        var samples = Enumerable.Range(0, 4000).Select(i =>
        {
            var item = rng.Next(10);
            return new Sample
            {
                Task = TaskKind.Ctr,
                Time = i * TimeSpan.TicksPerSecond,
                Label = rng.NextDouble() < item / 10.0 ? 1 : 0,
                Ids = [IdHasher.Hash("u" + rng.Next(500)), IdHasher.Hash("i" + item), IdHasher.Hash("c" + rng.Next(3))],
                Bags = [[]],
                Numerics = [0f],
            };
        }).ToList();
        using var store = new InProcessParameterStore(schema);
        var report = await new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 8 }).ReplayAsync(samples);

        var baselines = report.Ctr.Baselines!;
        Assert.Equal(["user", "item", "category", StreamingTrainer.MeanBaseline], baselines.Keys);
        Assert.True(baselines["item"] > 0.75, $"item's running rate: {baselines["item"]}");
        Assert.InRange(baselines["user"]!.Value, 0.4, 0.6);
        Assert.InRange(baselines["category"]!.Value, 0.4, 0.6);
        Assert.Equal(baselines["item"], report.Ctr.BestBaselineAuc);
        // The schema's named baseline (here the first frozen id field, user) is one of them.
        Assert.Equal("user", schema.BaselineField(conversion: false));
        Assert.Equal(baselines["user"], report.Ctr.BaselineAuc);
        Assert.Null(report.Cvr.BestBaselineAuc);
    }

    [Fact]
    public async Task A_burst_of_one_users_events_counts_each_event_for_the_next_as_a_shops_counter_does()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        // 200 users, each seen in one burst of 8 events a second apart inside one training batch of 64; half always
        // click, half never. Counted after each step, every event of a burst would score the prior (AUC near 0.5);
        // counted per event, the second event on knows its user.
        var samples = Enumerable.Range(0, 1600).Select(i => new Sample
        {
            Task = TaskKind.Ctr,
            Time = i * TimeSpan.TicksPerSecond,
            Label = i / 8 % 2,
            Ids = [IdHasher.Hash("u" + i / 8), IdHasher.Hash("i" + i % 5), IdHasher.Hash("c0")],
            Bags = [[]],
            Numerics = [0f],
        }).ToList();
        using var store = new InProcessParameterStore(schema);
        var report = await new StreamingTrainer(schema, store, new TrainerOptions { BatchSize = 64 }).ReplayAsync(samples);
        Assert.True(report.Ctr.Baselines!["user"] > 0.9, $"the user's running rate per event: AUC {report.Ctr.Baselines["user"]}");
    }

    [Fact]
    public void Events_count_strictly_before_a_samples_time_and_a_later_positive_from_its_arrival()
    {
        var counters = new EventTimeCounters([new PopularityBaseline(strength: 1)], new PopularityBaseline());
        var scores = new float[2];
        ulong user = 7;
        Sample At(long seconds, float label, long conversionSeconds = 0, LabelArrival arrival = LabelArrival.Known) => new()
        {
            Task = TaskKind.Cvr, Time = seconds * TimeSpan.TicksPerSecond, Label = label, Ids = [user], Bags = [], Numerics = [],
            ConversionTime = conversionSeconds * TimeSpan.TicksPerSecond, Arrival = arrival,
        };
        float ScoreAt(long seconds)
        {
            counters.Advance(seconds * TimeSpan.TicksPerSecond);
            counters.Score([user], scores);
            return scores[0];
        }

        var prior = ScoreAt(0);
        counters.Add(At(10, 1));
        // An event of the same instant does not see it; the next instant does.
        Assert.Equal(prior, ScoreAt(10));
        var afterClick = ScoreAt(11);
        Assert.True(afterClick > prior);
        // A conversion an hour after its click: its trial counts from the click, its positive from the conversion.
        counters.Add(At(20, 1, conversionSeconds: 3620));
        var trialOnly = ScoreAt(1000);
        Assert.True(trialOnly < afterClick, "the trial counts before its conversion is known");
        Assert.Equal(1, counters.Pending);
        Assert.True(ScoreAt(3621) > trialOnly, "the conversion counts once its time has passed");
        Assert.Equal(0, counters.Pending);
        // Delayed feedback: a provisional negative counts its trial; the late positive adds only the positive, at its arrival.
        counters.Add(At(4000, 0, arrival: LabelArrival.Provisional));
        var provisional = ScoreAt(4001);
        counters.Add(At(4000, 1, conversionSeconds: 5000, arrival: LabelArrival.Late));
        Assert.Equal(provisional, ScoreAt(4999));
        Assert.True(ScoreAt(5001) > provisional);
        Assert.Equal(1, counters.Fields[0].Keys);
    }

    [Fact]
    public void What_waits_is_capped_and_the_oldest_counts_early_past_the_cap()
    {
        var counters = new EventTimeCounters([new PopularityBaseline()], new PopularityBaseline(), maxPending: 2);
        for (var t = 1; t <= 5; t++)
        {
            counters.Add(new Sample { Task = TaskKind.Ctr, Time = t, Label = 1, Ids = [1], Bags = [], Numerics = [] });
        }
        Assert.Equal(2, counters.Pending);
        counters.Advance(long.MaxValue);
        Assert.Equal(0, counters.Pending);
    }
}
