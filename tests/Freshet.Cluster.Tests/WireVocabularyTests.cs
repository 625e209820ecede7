using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Serving;
using Freshet.Model.Training;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Freshet.Cluster.Tests;

/// <summary>The core's vocabulary crosses the wire as itself: enums and the weights version round-trip through Orleans' serializer.</summary>
public class WireVocabularyTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private static T RoundTrip<T>(T value) where T : class => Serializer.Deserialize<T>(Serializer.SerializeToArray(value)) ?? throw new InvalidOperationException("deserialized to null");

    [Fact]
    public void Task_strategy_and_weights_version_round_trip_in_the_records_that_carry_them()
    {
        Assert.Equal(TaskKind.Cvr, RoundTrip(new DenseTowerState { Task = TaskKind.Cvr }).Task);
        Assert.Equal(Strategy.Mlp, RoundTrip(new JobSpec { Strategy = Strategy.Mlp }).Strategy);
        Assert.Equal(new WeightsVersion(12, 34), RoundTrip(new Prediction { Weights = new WeightsVersion(12, 34) }).Weights);
        Assert.Equal(new WeightsVersion(5, 0), RoundTrip(new JobStatus { Published = new WeightsVersion(5) }).Published);
        Assert.Null(RoundTrip(new ReplicaStatus()).Weights);
    }

    [Fact]
    public void Weights_versions_order_by_checkpoint_then_delta_and_print_as_operators_read_them()
    {
        var v = new WeightsVersion(3, 7);
        Assert.True(v < new WeightsVersion(3, 8));
        Assert.True(v < new WeightsVersion(4, 0));
        Assert.True(v > new WeightsVersion(2, 99));
        Assert.Equal(new WeightsVersion(3, 8), v.NextDelta());
        Assert.Equal("v3+7", v.ToString());
        Assert.Equal("v3", new WeightsVersion(3).ToString());
    }
}
