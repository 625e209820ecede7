using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Deployments;
using Freshet.Grains.Feedback;
using Freshet.Model.Serving;

namespace Freshet.Cluster.Tests;

/// <summary>The guard's rules on a fake clock, without a cluster: when it checks, and what each verdict changes and says.</summary>
public class GuardPolicyTests
{
    private static readonly DateTime T0 = new(2026, 3, 2, 12, 0, 0, DateTimeKind.Utc);
    private static readonly GuardSpec Spec = new() { CheckEvery = TimeSpan.FromMinutes(1) };
    private static readonly WeightsVersion Good = new(3, 2);

    private static GuardVerdict Verdict(GuardAction action) => new()
    {
        Action = action, Good = Good, From = new WeightsVersion(3, 4), To = new WeightsVersion(3, 6), Pairs = 2_000, ServedLogLoss = 0.3, GoodLogLoss = 0.29,
    };

    [Fact]
    public void It_checks_once_per_interval_and_never_while_halted()
    {
        var g = new GuardState();
        Assert.True(GuardPolicy.Due(g, Spec, T0));
        Assert.False(GuardPolicy.Due(g, Spec, T0.AddSeconds(59)));
        Assert.True(GuardPolicy.Due(g, Spec, T0.AddMinutes(1)));
        Assert.Equal(T0.AddMinutes(2), g.NextCheck);
        g.Halted = true;
        Assert.False(GuardPolicy.Due(g, Spec, T0.AddHours(1)));
    }

    [Fact]
    public void A_wait_changes_nothing_but_the_last_verdict_and_says_nothing()
    {
        var g = new GuardState { Good = Good };
        var wait = Verdict(GuardAction.Wait);
        Assert.Null(GuardPolicy.Apply(g, wait, Good, T0));
        Assert.Same(wait, g.Last);
        Assert.Equal((0, 0, false), (g.Promotions, g.Rollbacks, g.Halted));
    }

    [Fact]
    public void A_good_line_is_a_promotion_of_its_oldest_version()
    {
        var g = new GuardState { Good = Good };
        var e = GuardPolicy.Apply(g, Verdict(GuardAction.Good), Good, T0);
        Assert.Equal(1, g.Promotions);
        Assert.False(g.Halted);
        Assert.Equal(DeploymentEventKind.GuardGood, e!.Kind);
        Assert.Equal(new WeightsVersion(3, 4), e.Weights);
    }

    [Fact]
    public void A_worse_line_halts_the_guard_and_goes_back_to_the_good_weights()
    {
        var g = new GuardState { Good = Good };
        var worse = Verdict(GuardAction.Rollback);
        var e = GuardPolicy.Apply(g, worse, Good, T0);
        Assert.True(g.Halted);
        Assert.Equal(1, g.Rollbacks);
        Assert.Same(worse, g.LastRollback);
        Assert.Equal(T0, g.LastRollbackTime);
        Assert.Equal(DeploymentEventKind.GuardRollback, e!.Kind);
        Assert.Equal(Good, e.Weights);
        Assert.False(GuardPolicy.Due(g, Spec, T0.AddHours(1)));
    }
}
