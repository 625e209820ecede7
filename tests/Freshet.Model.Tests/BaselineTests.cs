using Freshet.Model.Data;
using Freshet.Model.Hashing;
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
}
