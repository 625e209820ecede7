using Freshet.Deployments;
using Freshet.Grains.Deployments;

namespace Freshet.Cluster.Tests;

/// <summary>
/// The deployment schedules on a fake clock, without a cluster: a driver ticks a schedule as the grain's timer does and
/// carries out what it calls for, as the grain does (a checkpoint may fail), recording when each thing happened.
/// </summary>
public class DeploymentScheduleTests
{
    private static readonly DateTime Day = new(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc);

    private sealed record Happened(DateTime Time, ScheduledAction Action, DeploymentJob Job, bool Failed);

    /// <summary>Ticks every <paramref name="tick"/> from <paramref name="from"/> to <paramref name="to"/>, entering <paramref name="mode"/> at the start.</summary>
    private static List<Happened> Run(DeploymentSpec spec, Mode mode, DateTime from, DateTime to, TimeSpan tick, Func<DateTime, bool>? checkpointFails = null,
        TimeSpan? promotionEvery = null)
    {
        var state = new DeploymentState { Spec = spec, Mode = mode, Running = true, PromotionEvery = promotionEvery ?? spec.PromotionEvery };
        DeploymentSchedule.Of(state).Enter(state, from);
        var happened = new List<Happened>();
        for (var now = from + tick; now <= to; now += tick)
        {
            var schedule = DeploymentSchedule.Of(state);
            var due = schedule.Tick(state, now);
            switch (due)
            {
                case ScheduledAction.Delta:
                    schedule.RestartInterval(state, now);
                    happened.Add(new Happened(now, due, schedule.Publishing, false));
                    break;
                case ScheduledAction.DailyCheckpoint or ScheduledAction.PromotionSwitch:
                    var failed = checkpointFails?.Invoke(now) ?? false;
                    if (failed) schedule.CheckpointFailed(state, now);
                    else schedule.Checkpointed(state, now);
                    happened.Add(new Happened(now, due, DeploymentJob.Main, failed));
                    break;
            }
        }
        return happened;
    }

    private static void AssertDeltasOneIntervalAfterTheLastChange(List<Happened> happened, DateTime start, TimeSpan interval)
    {
        var last = start;
        foreach (var h in happened.Where(h => !h.Failed))
        {
            if (h.Action == ScheduledAction.Delta) Assert.True(h.Time - last == interval, $"a delta at {h.Time:O}, {h.Time - last} after serving last changed at {last:O}");
            last = h.Time;
        }
    }

    private static DeploymentSpec Spec(TimeSpan interval, TimeSpan dailyAt) =>
        new() { Model = "m", SchemaJson = "{}", PublishInterval = interval, DailyCheckpointAt = dailyAt, PromotionEvery = TimeSpan.FromHours(4) };

    [Fact]
    public void Daily_mode_publishes_a_delta_every_interval_and_the_days_checkpoint_at_its_time_from_which_the_interval_restarts()
    {
        var spec = Spec(TimeSpan.FromMinutes(1), TimeSpan.FromHours(3));
        var tick = TimeSpan.FromSeconds(10);
        var happened = Run(spec, Mode.Daily, Day.AddSeconds(30), Day.AddHours(28), tick);

        var checkpoints = happened.Where(h => h.Action == ScheduledAction.DailyCheckpoint).Select(h => h.Time).ToList();
        Assert.Equal([Day.AddHours(3), Day.AddDays(1).AddHours(3)], checkpoints);
        var deltas = happened.Where(h => h.Action == ScheduledAction.Delta).ToList();
        Assert.All(deltas, d => Assert.Equal(DeploymentJob.Main, d.Job));
        // Each delta comes exactly one interval after serving last changed (the start, a delta or a checkpoint): never
        // sooner, never later on this clock's ticks. The checkpoint comes at its own time.
        AssertDeltasOneIntervalAfterTheLastChange(happened, Day.AddSeconds(30), spec.PublishInterval);
        // 00:01:30 to 02:59:30, 03:01 to 26:59, 27:01 to 28:00.
        Assert.Equal(179 + (24 * 60 - 1) + 60, deltas.Count);
    }

    [Fact]
    public void Promotion_mode_switches_every_period_and_b_publishes_between_never_in_a_switchs_tick()
    {
        var spec = Spec(TimeSpan.FromMinutes(1), TimeSpan.FromHours(3));
        var start = Day.AddHours(10);
        var happened = Run(spec, Mode.Promotion, start, start.AddHours(13), TimeSpan.FromSeconds(10));

        // A's checkpoints every 4 h from the start of the mode (the daily checkpoint's time does not apply).
        Assert.Equal([start.AddHours(4), start.AddHours(8), start.AddHours(12)], happened.Where(h => h.Action == ScheduledAction.PromotionSwitch).Select(h => h.Time));
        Assert.DoesNotContain(happened, h => h.Action == ScheduledAction.DailyCheckpoint);
        var deltas = happened.Where(h => h.Action == ScheduledAction.Delta).ToList();
        Assert.All(deltas, d => Assert.Equal(DeploymentJob.B, d.Job));
        // B publishes every interval between switches; after a switch its next delta is an interval later.
        AssertDeltasOneIntervalAfterTheLastChange(happened, start, spec.PublishInterval);
        Assert.Equal(13 * 60 - 3, deltas.Count);
    }

    [Theory]
    [InlineData(30, 60)] // a minute, at least
    [InlineData(300, 300)] // or the interval, when longer
    public void A_refused_checkpoint_is_tried_again_after_a_minute_or_the_interval_while_deltas_go_on(int intervalSeconds, int retrySeconds)
    {
        var spec = Spec(TimeSpan.FromSeconds(intervalSeconds), TimeSpan.FromHours(3));
        var refused = 0;
        var happened = Run(spec, Mode.Daily, Day, Day.AddHours(4), TimeSpan.FromSeconds(5), now => now >= Day.AddHours(3) && refused++ < 2);

        var tries = happened.Where(h => h.Action == ScheduledAction.DailyCheckpoint).ToList();
        var retry = TimeSpan.FromSeconds(retrySeconds);
        Assert.Equal([(Day.AddHours(3), true), (Day.AddHours(3) + retry, true), (Day.AddHours(3) + 2 * retry, false)], tries.Select(t => (t.Time, t.Failed)));
        // Deltas go on between the tries, on the version serving has.
        Assert.Contains(happened, h => h.Action == ScheduledAction.Delta && h.Time > tries[0].Time && h.Time < tries[1].Time);
    }

    [Fact]
    public void Switching_modes_starts_the_new_modes_times_and_a_rollback_restarts_the_interval()
    {
        var spec = Spec(TimeSpan.FromMinutes(1), TimeSpan.FromHours(3));
        var state = new DeploymentState { Spec = spec, Mode = Mode.Daily, PromotionEvery = TimeSpan.FromHours(2) };
        var now = Day.AddHours(1);
        DeploymentSchedule.Of(state).Enter(state, now);
        Assert.Equal((now.AddMinutes(1), Day.AddHours(3)), (state.NextPublish, state.NextCheckpoint));

        state.Mode = Mode.Promotion;
        now = now.AddMinutes(30);
        DeploymentSchedule.Of(state).Enter(state, now);
        Assert.Equal((now.AddMinutes(1), now.AddHours(2)), (state.NextPublish, state.NextSwitch));
        Assert.Equal(DeploymentJob.B, DeploymentSchedule.Of(state).Publishing);

        now = now.AddSeconds(20);
        DeploymentSchedule.Of(state).RestartInterval(state, now);
        Assert.Equal(now.AddMinutes(1), state.NextPublish);
        Assert.Equal(ScheduledAction.None, DeploymentSchedule.Of(state).Tick(state, now.AddSeconds(59)));
        Assert.Equal(ScheduledAction.Delta, DeploymentSchedule.Of(state).Tick(state, now.AddMinutes(1)));

        // A day's checkpoint time already passed today is tomorrow's.
        Assert.Equal(Day.AddDays(1).AddHours(3), new DailySchedule(spec).NextDaily(Day.AddHours(3)));
    }
}
