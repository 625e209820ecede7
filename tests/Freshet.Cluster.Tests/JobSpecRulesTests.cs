using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Jobs;

namespace Freshet.Cluster.Tests;

public class JobSpecRulesTests
{
    [Fact]
    public void A_good_spec_has_no_problems_and_a_bad_one_has_each_named()
    {
        Assert.Empty(JobSpecRules.Problems(new JobSpec { Model = "ctr-1", Strategy = Strategy.Part, Shards = 4, FreshRowBudget = 0, Trainers = 2 }));
        Assert.Empty(JobSpecRules.Problems(new JobSpec { Model = "" })); // the schema's name is used

        var problems = JobSpecRules.Problems(new JobSpec { Model = "CTR 1", Strategy = (Strategy)7, Shards = 0, Trainers = 5000, KeepCheckpoints = 0, FreshRowBudget = -1 });

        Assert.Equal(
        [
            "model 'CTR 1': the character 'C' is not allowed; a name is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or a digit",
            "strategy: 7 is not a strategy; use base, mlp, part or all",
            "shards: 0 is out of range; use 1..4096",
            "trainers: 5000 is out of range; use 1..1024",
            "keepCheckpoints: 0; keep at least 1",
            "freshRowBudget: -1; use 0 (no fresh rows in deltas) or more",
        ], problems);
    }

    [Fact]
    public void A_typed_strategy_parses_and_part_plus_fresh_is_refused_for_a_cluster_job_with_what_to_use_instead()
    {
        Assert.Null(JobSpecRules.Strategy("Part", out var part));
        Assert.Equal(Strategy.Part, part);
        Assert.Contains("a cluster job gets it with strategy all", JobSpecRules.Strategy("part+fresh", out _));
        Assert.Equal("strategy '3' is not a strategy; use base, mlp, part or all", JobSpecRules.Strategy("3", out _));
    }

    [Theory]
    [InlineData("base", Strategy.Base, false)]
    [InlineData("mlp", Strategy.Mlp, false)]
    [InlineData("PART", Strategy.Part, false)]
    [InlineData("part+fresh", Strategy.Part, true)]
    [InlineData("all", Strategy.All, false)]
    public void A_training_plan_round_trips_through_its_name(string name, Strategy strategy, bool fresh)
    {
        Assert.True(TrainingPlan.TryParse(name, out var plan));
        Assert.Equal(new TrainingPlan(strategy, fresh), plan);
        Assert.Equal(name.ToLowerInvariant(), plan.Name);
        Assert.True(TrainingPlan.TryParse(plan.Name, out var again));
        Assert.Equal(plan, again);
    }

    [Fact]
    public void Fresh_rows_train_only_a_frozen_tier_the_strategy_leaves_alone()
    {
        var partFresh = new TrainingPlan(Strategy.Part, FreshRows: true);
        Assert.True(partFresh.Trains(Tier.Frozen));
        Assert.True(partFresh.FreshOnly(Tier.Frozen));
        Assert.False(partFresh.FreshOnly(Tier.Changing));
        Assert.False(new TrainingPlan(Strategy.Part).Trains(Tier.Frozen));
        Assert.False(TrainingPlan.TryParse("mlp+fresh", out _));
        Assert.False(TrainingPlan.TryParse("most", out _));
    }
}
