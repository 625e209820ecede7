using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Deployments;
using Freshet.Model.Serving;

namespace Freshet.Grains.Feedback;

/// <summary>
/// The served-quality guard's rules over its state, on the deployment's clock: when it checks, and what a verdict of
/// <see cref="ServedGuard.Judge"/> changes and says. The deployment grain carries out the calls a verdict asks for
/// (serving's good weights marked, serving halted and reverted).
/// </summary>
public static class GuardPolicy
{
    /// <summary>
    /// Whether the guard checks at <paramref name="now"/>: not while halted, and not before its next check. A check puts the
    /// next one <see cref="GuardSpec.CheckEvery"/> later.
    /// </summary>
    public static bool Due(GuardState guard, GuardSpec spec, DateTime now)
    {
        if (guard.Halted || (guard.NextCheck is { } next && now < next)) return false;
        guard.NextCheck = now + spec.CheckEvery;
        return true;
    }

    /// <summary>
    /// Records <paramref name="verdict"/> (judged against the <paramref name="good"/> weights) and returns the event it makes:
    /// none while the test waits; a promotion when the judged line is good (its oldest version becomes the good one); a
    /// rollback when it is worse, which halts the guard (and publishing) until a resume.
    /// </summary>
    public static DeploymentEvent? Apply(GuardState guard, GuardVerdict verdict, WeightsVersion good, DateTime now)
    {
        guard.Last = verdict;
        switch (verdict.Action)
        {
            case GuardAction.Good:
                guard.Promotions++;
                return new DeploymentEvent { Time = now, Kind = DeploymentEventKind.GuardGood, Job = DeploymentJob.Main, Weights = verdict.From, Guard = verdict, Detail = $"good: {verdict}" };
            case GuardAction.Rollback:
                guard.Halted = true;
                guard.Rollbacks++;
                guard.LastRollback = verdict;
                guard.LastRollbackTime = now;
                return new DeploymentEvent
                {
                    Time = now, Kind = DeploymentEventKind.GuardRollback, Job = DeploymentJob.Main, Weights = good, Guard = verdict,
                    Detail = $"served line worse: {verdict}; serving went back to {good}, publishing halted (freshet resume starts a new line)",
                };
            default:
                return null;
        }
    }
}
