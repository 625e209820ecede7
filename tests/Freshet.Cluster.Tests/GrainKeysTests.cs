using Freshet.Model.Data;
using Freshet.Grains.Streaming;
using Freshet.Samples;

namespace Freshet.Cluster.Tests;

public class GrainKeysTests
{
    [Theory]
    [InlineData("ctr-model", 0)]
    [InlineData("team_ctr-model2", 12)]
    public void Keys_parse_back_into_what_built_them(string name, int index)
    {
        Assert.Equal(new ShardKey(name, index), ShardKey.Parse(new ShardKey(name, index).ToString()));
        Assert.Equal(new TrainerKey(name, index), TrainerKey.Parse(new TrainerKey(name, index).ToString()));
        Assert.Equal(new Feedback.JoinerKey(name, index), Feedback.JoinerKey.Parse(new Feedback.JoinerKey(name, index).ToString()));
        var id = new Feedback.PredictionId(name, index, Guid.NewGuid());
        Assert.Equal(id, Feedback.PredictionId.Parse(id.ToString()));
        var stream = SampleStreams.Id(name, index, TaskKind.Cvr);
        Assert.Equal((name, index, TaskKind.Cvr), JsonSampleDataAdapter.ParseStreamKey(stream));
    }

    [Fact]
    public void A_name_holding_a_slash_is_not_a_name_where_names_arrive()
    {
        // Keys split at the last '/', so internal keys still parse; but no door takes such a model or job (NameRule).
        Assert.Equal(new ShardKey("team/ctr-model", 12), ShardKey.Parse("team/ctr-model/12"));
        Assert.Throws<ArgumentException>(() => Feedback.JoinerKey.Parse("team/ctr-model/12"));
        Assert.False(Feedback.PredictionId.TryParse($"team/ctr-model/12/{Guid.NewGuid():N}", out _));
        Assert.False(SampleStreams.TryParse(SampleStreams.Id("team/ctr-model", 12, TaskKind.Cvr), out _, out _, out _));
    }

    [Fact]
    public void A_replica_key_names_its_model_and_silo_and_a_bad_one_is_refused()
    {
        var silo = SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 42);
        var key = new ReplicaKey("team/shop", silo);
        Assert.Equal(key, ReplicaKey.Parse(key.ToString()));
        Assert.Contains("is not '{model}/{silo address}'", Assert.Throws<ArgumentException>(() => ReplicaKey.Parse("shop/not-a-silo")).Message);
        Assert.Contains("is not '{model}/{silo address}'", Assert.Throws<ArgumentException>(() => ReplicaKey.Parse("shop")).Message);
    }

    [Theory]
    [InlineData("model")]
    [InlineData("/3")]
    [InlineData("model/")]
    [InlineData("model/-1")]
    [InlineData("model/x")]
    public void A_key_that_is_not_name_slash_index_is_refused_with_its_form(string key)
    {
        Assert.Contains("is not '{model}/{shard}'", Assert.Throws<ArgumentException>(() => ShardKey.Parse(key)).Message);
        Assert.Contains("is not '{job}/{partition}'", Assert.Throws<ArgumentException>(() => TrainerKey.Parse(key)).Message);
        Assert.Contains("is not '{model}/{joiner}'", Assert.Throws<ArgumentException>(() => Feedback.JoinerKey.Parse(key)).Message);
    }

    [Fact]
    public void A_prediction_id_spreads_over_its_joiners_and_a_malformed_one_is_refused_with_its_form()
    {
        var joiners = Enumerable.Range(0, 4000).Select(_ => Feedback.PredictionId.New("shop", 4).Joiner).GroupBy(j => j).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([0, 1, 2, 3], joiners.Keys.Order());
        Assert.All(joiners.Values, n => Assert.InRange(n, 800, 1200));
        Assert.All(Enumerable.Range(0, 100).Select(_ => Feedback.PredictionId.New("shop", 1)), id => Assert.Equal(0, id.Joiner));
        foreach (var bad in new[] { "", "shop", "shop/1", "shop/x/" + Guid.NewGuid().ToString("N"), "shop/1/not-hex", "/1/" + Guid.NewGuid().ToString("N") })
        {
            Assert.False(Feedback.PredictionId.TryParse(bad, out _), bad);
            Assert.Contains("{model}/{joiner}/{32 hex digits}", Assert.Throws<FormatException>(() => Feedback.PredictionId.Parse(bad)).Message);
        }
    }
}

public class SpreadPlacementTests
{
    private static SiloAddress Silo(int port) => SiloAddress.New(System.Net.IPAddress.Loopback, port, 7);

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(4, 4)]
    public void Shards_and_trainers_spread_evenly_and_every_silo_computes_the_same_place(int silos, int shards)
    {
        var all = Enumerable.Range(0, silos).Select(i => Silo(11111 + i)).ToList();
        var shuffled = all.AsEnumerable().Reverse().ToList(); // the order a silo lists its membership in does not matter
        foreach (var model in new[] { "ctr", "team/shop", "a" })
        {
            var placed = Enumerable.Range(0, shards).Select(s => Freshet.Grains.Placement.SpreadPlacement.SiloFor(new ShardKey(model, s).ToString(), all)).ToList();
            Assert.Equal(placed, Enumerable.Range(0, shards).Select(s => Freshet.Grains.Placement.SpreadPlacement.SiloFor(new ShardKey(model, s).ToString(), shuffled)));
            var counts = placed.GroupBy(s => s).Select(g => g.Count()).ToList();
            Assert.Equal(Math.Min(silos, shards), counts.Count);
            Assert.True(counts.Max() - counts.Min() <= 1, $"{model}: {string.Join(", ", counts)} shards a silo");
        }
    }
}
