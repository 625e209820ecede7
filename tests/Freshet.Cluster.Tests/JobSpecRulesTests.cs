using Freshet.Jobs;

namespace Freshet.Cluster.Tests;

public class JobSpecRulesTests
{
    [Fact]
    public void A_good_spec_has_no_problems_and_a_bad_one_has_each_named()
    {
        Assert.Empty(JobSpecRules.Problems(new JobSpec { Model = "ctr-1", Strategy = "Part", Shards = 4, Trainers = 2 }));
        Assert.Empty(JobSpecRules.Problems(new JobSpec { Model = "" })); // the schema's name is used

        var problems = JobSpecRules.Problems(new JobSpec { Model = "CTR 1", Strategy = "most", Shards = 0, Trainers = 5000, KeepCheckpoints = 0 });

        Assert.Equal(
        [
            "model: 'CTR 1' must be 1-64 characters of a-z, 0-9, '-' or '_'",
            "strategy 'most' is not a strategy; use base, mlp, part or all",
            "shards: 0 is out of range; use 1..4096",
            "trainers: 5000 is out of range; use 1..1024",
            "keepCheckpoints: 0; keep at least 1",
        ], problems);
    }

    [Fact]
    public void Part_plus_fresh_is_refused_for_a_cluster_job_with_what_to_use_instead()
    {
        Assert.Contains("a cluster job gets it with strategy all", JobSpecRules.Strategy("part+fresh"));
    }
}
