using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Samples;
using Freshet.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>Every door where a model's or job's name arrives holds it to the one rule (<see cref="Freshet.Model.Schema.NameRule"/>).</summary>
public class NameDoorTests
{
    private static readonly ScoreRow[] Row = [ScoreRow.Of(("user", "u1"))];

    [Fact]
    public void Scoring_labels_sample_streams_and_deployments_refuse_a_name_that_is_not_one()
    {
        var score = Assert.Throws<ScoringRequestException>(() => ScoreRequest.Validate("../x", Row));
        Assert.Equal("model '../x': the character '.' is not allowed; a name is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or a digit", score.Message);

        var value = Guid.NewGuid();
        Assert.True(PredictionId.TryParse($"shop/1/{value:N}", out var good));
        Assert.Equal(new PredictionId("shop", 1, value), good);
        Assert.False(PredictionId.TryParse($"../x/0/{value:N}", out _));
        Assert.False(PredictionId.TryParse($"a/b/0/{value:N}", out _));
        Assert.False(PredictionId.TryParse($"shop/{FeedbackSpec.MaxJoiners}/{value:N}", out _));
        Assert.Throws<ArgumentException>(() => JoinerKey.Parse("../x/0"));
        Assert.Throws<ArgumentException>(() => JoinerKey.Parse("Shop/0"));

        Assert.False(SampleStreams.TryParse(StreamId.Create(FreshetNames.SamplesNamespace, "../x/0/ctr"), out _, out _, out _));
        Assert.True(SampleStreams.TryParse(SampleStreams.Id("shop-main", 0, TaskKind.Ctr), out var job, out _, out _));
        Assert.Equal("shop-main", job);
        Assert.Throws<ArgumentException>(() => new Freshet.Client.SamplePublisher(null!, "shop/main", 1));

        // A deployment's name makes its jobs' names ({model}-main): those follow the rule too.
        var longest = new string('a', Freshet.Model.Schema.NameRule.MaxLength);
        Assert.Contains($"model '{longest}': its main job", string.Join("; ", DeploymentSpecRules.Problems(new DeploymentSpec { Model = longest })), StringComparison.Ordinal);
        Assert.DoesNotContain(DeploymentSpecRules.Problems(new DeploymentSpec { Model = longest[..59] }), p => p.StartsWith("model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scoring_call_around_the_client_is_held_to_the_rule_on_the_silo()
    {
        await using var h = await ClusterHarness.StartAsync();
        // Straight to the scoring grain, as a caller without the SDK would: ".." named the checkpoint folder's parent.
        var e = await Assert.ThrowsAsync<ScoringRequestException>(() => h.Client.GetGrain<IScoringGrain>(0).ScoreAsync(new ScoreRequest { Model = "..", Rows = Row }));
        Assert.StartsWith("model '..': the character '.' is not allowed", e.Message, StringComparison.Ordinal);
        var samples = await Assert.ThrowsAsync<ScoringRequestException>(() => h.Client.GetGrain<IScoringGrain>(0).ScoreSamplesAsync("../x", new SampleBatch()));
        Assert.StartsWith("model '../x': the character '.' is not allowed", samples.Message, StringComparison.Ordinal);
    }
}
