using Freshet.Model.Telemetry;
using Freshet.Model.Serving;
using Freshet.Grains.Placement;
using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Feedback;
using Freshet.Jobs;
using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Deployments;

/// <summary>
/// The modes of a served model as a persisted state machine on a clock. Daily: the main job trains
/// every tier, publishes a delta every interval and a full checkpoint once a day, which serving swaps
/// in. Promotion: the main job is Model A (trains everything, publishes no deltas, checkpoints every N
/// hours); Model B (its own weights, frozen tier locked) reads the same samples and publishes every
/// interval; at each A checkpoint B stops publishing, serving switches to A's checkpoint, B restores
/// it, and B publishes on it from the next interval. Every transition is logged with its versions.
/// </summary>
[AdminSilo]
public sealed partial class DeploymentGrain(
    IGrainFactory grains,
    TimeProvider time,
    [PersistentState("deployment", FreshetNames.GrainStorage)] IPersistentState<DeploymentState> state,
    FreshetInstruments instruments,
    Weights.WeightsChannel weights,
    ILogger<DeploymentGrain> logger) : Grain, IDeploymentGrain
{
    private const int EventsKept = 200;
    private IGrainTimer? _timer;

    private string Model => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Running) StartClock();
        return Task.CompletedTask;
    }

    public async Task<DeploymentStatus> StartAsync(DeploymentSpec spec)
    {
        if (spec.Model != Model) throw new JobRequestException($"deployment '{Model}' cannot run model '{spec.Model}': the deployment's key is its model");
        if (DeploymentSpecRules.Problems(spec) is { Count: > 0 } problems) throw new JobRequestException(string.Join("; ", problems));
        var main = Main(spec);
        var existing = await main.GetStatusAsync();
        if (existing.State is JobState.None or JobState.Stopped or JobState.Failed or JobState.Completed)
        {
            await main.CreateAsync(new JobSpec
            {
                Model = spec.Model, SchemaJson = spec.SchemaJson, Strategy = spec.Strategy, Shards = spec.Shards, Trainers = spec.Trainers,
                PersistInterval = spec.PersistInterval, FreshRowBudget = spec.FreshRowBudget, RestoreVersion = spec.RestoreVersion, RestoreLatest = spec.RestoreLatest,
                MaxBatchWait = spec.MaxBatchWait, KeepCheckpoints = spec.KeepCheckpoints,
            });
        }
        await main.StartAsync();
        if (spec.Feedback is { } feedback)
        {
            var config = new Freshet.Feedback.JoinerConfig
            {
                Spec = feedback, Job = spec.JobOf(DeploymentJob.Main), Trainers = spec.Trainers, Clock = spec.Clock, PersistInterval = spec.PersistInterval,
                SchemaJson = spec.SchemaJson,
            };
            await Task.WhenAll(Enumerable.Range(0, feedback.Joiners).Select(j => grains.Joiner(spec.Model, j).ConfigureAsync(config)));
        }
        state.State = new DeploymentState
        {
            Spec = spec, Mode = Mode.Daily, Running = true, PromotionEvery = spec.PromotionEvery, ServingCheckpoint = state.State.ServingCheckpoint,
            Guard = state.State.Guard,
        };
        Record(new DeploymentEvent { Time = Now(), Kind = DeploymentEventKind.Start, Job = DeploymentJob.Main, Detail = $"daily mode, publish every {spec.PublishInterval}, checkpoint daily at {spec.DailyCheckpointAt}" });
        await state.WriteStateAsync();
        StartClock();
        return await GetStatusAsync();
    }

    public async Task<DeploymentStatus> SetModeAsync(Mode mode, TimeSpan? every = null)
    {
        var spec = Spec();
        var now = Now();
        // Either switch publishes a full checkpoint of the training line, which serving would switch to.
        if (mode != state.State.Mode) RefuseWhileHalted($"switching to {mode.ToString().ToLowerInvariant()} mode");
        if (mode == Mode.Promotion)
        {
            if (every is { } e && DeploymentSpecRules.PromotionEvery(e) is { } problem) throw new JobRequestException(problem);
            state.State.PromotionEvery = every ?? state.State.PromotionEvery;
            if (state.State.Mode == Mode.Promotion)
            {
                await state.WriteStateAsync();
                return await GetStatusAsync();
            }
            // A and B start from the same checkpoint: A's, now, which serving switches to.
            var checkpoint = await Main(spec).PublishCheckpointAsync();
            var b = B(spec);
            var bStatus = await b.GetStatusAsync();
            if (bStatus.State is JobState.None or JobState.Stopped or JobState.Failed or JobState.Completed)
            {
                await b.CreateAsync(new JobSpec
                {
                    Model = DeploymentJob.B.ModelOf(spec.Model), ServedModel = spec.Model, SchemaJson = spec.SchemaJson, Strategy = Freshet.Model.Training.Strategy.Part, LockFrozen = true,
                    Shards = spec.Shards, Trainers = spec.Trainers, PersistInterval = spec.PersistInterval, FreshRowBudget = 0, SampleStreams = spec.JobOf(DeploymentJob.Main),
                    MaxBatchWait = spec.MaxBatchWait,
                });
            }
            await b.StartAsync();
            await b.RestoreAsync(checkpoint.Version, spec.Model);
            state.State.Mode = Mode.Promotion;
            state.State.ServingCheckpoint = checkpoint.Version;
            DeploymentSchedule.Of(state.State).Enter(state.State, now);
            Record(new DeploymentEvent { Time = now, Kind = DeploymentEventKind.PromotionStart, Job = DeploymentJob.Main, Weights = new WeightsVersion(checkpoint.Version), Detail = $"A checkpointed version {checkpoint.Version}; B restored it and publishes every {spec.PublishInterval}; A checkpoints every {state.State.PromotionEvery}" });
        }
        else if (state.State.Mode == Mode.Promotion)
        {
            // Serving holds A's last checkpoint plus B's deltas; A's deltas need a base of A's own, so A
            // checkpoints now and serving switches to it before A publishes again.
            await B(spec).StopAsync();
            var checkpoint = await Main(spec).PublishCheckpointAsync();
            state.State.Mode = Mode.Daily;
            state.State.ServingCheckpoint = checkpoint.Version;
            DeploymentSchedule.Of(state.State).Enter(state.State, now);
            Record(new DeploymentEvent { Time = now, Kind = DeploymentEventKind.DailyStart, Job = DeploymentJob.Main, Weights = new WeightsVersion(checkpoint.Version), Detail = $"B stopped; A checkpointed version {checkpoint.Version}, which serving switched to; the main job publishes deltas on it" });
        }
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<IReadOnlyList<DeploymentEvent>> TickAsync(DateTime now)
    {
        if (!state.State.Running) return [];
        var spec = Spec();
        var events = new List<DeploymentEvent>();
        var schedule = DeploymentSchedule.Of(state.State);
        var due = schedule.Tick(state.State, now);
        if (spec.Feedback?.Guard is { } guard) await GuardAsync(now, spec, guard, events);
        // While the guard holds serving on the good weights, nothing from the bad line is published or announced until a resume.
        if (!state.State.Guard.Halted)
        {
            switch (due)
            {
                case ScheduledAction.DailyCheckpoint:
                case ScheduledAction.PromotionSwitch:
                    // In promotion mode B's publishing pauses for the switch: nothing is published in this tick but A's checkpoint.
                    events.Add(await ScheduledCheckpointAsync(schedule, due, now, spec));
                    break;
                case ScheduledAction.Delta:
                    events.Add(await PublishDeltaAsync(schedule, now, spec));
                    break;
            }
        }
        foreach (var e in events) Record(e);
        await state.WriteStateAsync();
        return events;
    }

    /// <summary>
    /// The mode's scheduled checkpoint: the day's (serving swaps to it) or A's (serving switches to it, B restores it and
    /// publishes on it next). One storage refused is tried again later; meanwhile deltas go on, on the version serving has.
    /// </summary>
    private async Task<DeploymentEvent> ScheduledCheckpointAsync(DeploymentSchedule schedule, ScheduledAction due, DateTime now, DeploymentSpec spec)
    {
        CheckpointResult checkpoint;
        try
        {
            checkpoint = await Main(spec).PublishCheckpointAsync();
        }
        catch (CheckpointFailedException e)
        {
            return DeploymentEvents.CheckpointFailed(now, e, schedule.CheckpointFailed(state.State, now));
        }
        var weights = new WeightsVersion(checkpoint.Version);
        if (due == ScheduledAction.PromotionSwitch) await B(spec).RestoreAsync(checkpoint.Version, spec.Model);
        state.State.ServingCheckpoint = checkpoint.Version;
        schedule.Checkpointed(state.State, now);
        return due == ScheduledAction.PromotionSwitch
            ? new DeploymentEvent { Time = now, Kind = DeploymentEventKind.PromotionSwitch, Job = DeploymentJob.Main, Weights = weights, Detail = $"A checkpointed version {checkpoint.Version}; serving switched to it; B restored it and publishes on it next" }
            : new DeploymentEvent { Time = now, Kind = DeploymentEventKind.DailyCheckpoint, Job = DeploymentJob.Main, Weights = weights, Detail = $"full checkpoint {checkpoint.Version}; serving swaps to it" };
    }

    public async Task<DeploymentStatus> CheckpointAsync()
    {
        var spec = Spec();
        var now = Now();
        RefuseWhileHalted("a checkpoint");
        var checkpoint = await Main(spec).PublishCheckpointAsync();
        if (state.State.Mode == Mode.Promotion) await B(spec).RestoreAsync(checkpoint.Version, spec.Model);
        state.State.ServingCheckpoint = checkpoint.Version;
        Record(new DeploymentEvent { Time = now, Kind = DeploymentEventKind.Checkpoint, Job = DeploymentJob.Main, Weights = new WeightsVersion(checkpoint.Version), Detail = $"full checkpoint {checkpoint.Version} on request; serving swaps to it" });
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<DeploymentStatus> RollbackAsync(long version)
    {
        var spec = Spec();
        if (state.State.Mode == Mode.Promotion)
        {
            throw new JobRequestException($"'{Model}' is in promotion mode; switch to daily mode first (freshet mode daily), then roll back");
        }
        await Main(spec).RollbackAsync(version);
        var now = Now();
        state.State.ServingCheckpoint = version;
        DeploymentSchedule.Of(state.State).RestartInterval(state.State, now);
        state.State.Guard.Halted = false;
        state.State.Guard.Floor = new WeightsVersion(version);
        if (spec.Feedback?.Guard is not null) await MarkGoodAsync(new WeightsVersion(version));
        Record(new DeploymentEvent { Time = now, Kind = DeploymentEventKind.Rollback, Job = DeploymentJob.Main, Weights = new WeightsVersion(version), Detail = $"serving back on version {version}; the main job restarted from it; deltas on other bases are refused" });
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<DeploymentStatus> ResumeAsync(ResumeFrom from)
    {
        var spec = Spec();
        if (!state.State.Guard.Halted) throw new JobRequestException($"'{Model}' is publishing: the guard has not rolled it back, so there is nothing to resume");
        var now = Now();
        var good = state.State.Guard.Good!.Value;
        // From the good weights: training goes back to their full checkpoint (the deltas since it are not training state).
        if (from == ResumeFrom.Good) await Main(spec).RestoreAsync(good.Checkpoint, spec.Model);
        var checkpoint = await Main(spec).PublishCheckpointAsync();
        if (state.State.Mode == Mode.Promotion) await B(spec).RestoreAsync(checkpoint.Version, spec.Model);
        state.State.ServingCheckpoint = checkpoint.Version;
        DeploymentSchedule.Of(state.State).RestartInterval(state.State, now);
        state.State.Guard.Halted = false;
        state.State.Guard.NextCheck = null;
        // The halted line's versions (some published before the rollback took effect) are not this line's: never judged again.
        state.State.Guard.Floor = new WeightsVersion(checkpoint.Version);
        Record(new DeploymentEvent
        {
            Time = now, Kind = DeploymentEventKind.Resume, Job = DeploymentJob.Main, Weights = new WeightsVersion(checkpoint.Version),
            Detail = (from == ResumeFrom.Good ? $"training restored from checkpoint {good.Checkpoint} of the good weights {good}; " : "training kept as it was; ")
                + $"publishing resumed from full checkpoint {checkpoint.Version}, which serving switched to; the guard judges it against the good weights {good}",
        });
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    /// <summary>
    /// While the guard holds serving on the good weights, nothing may publish the training line: a full checkpoint is
    /// announced to every replica and lifts their halt, so the rolled-back line would be served again while the guard,
    /// halted, judges nothing. Lifting the halt is <see cref="ResumeAsync"/>'s (or an explicit <see cref="RollbackAsync"/>'s), which start a new judged line.
    /// </summary>
    private void RefuseWhileHalted(string what)
    {
        var g = state.State.Guard;
        if (!g.Halted) return;
        var when = g.LastRollbackTime is { } t ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" at {t:u}") : "";
        throw new JobRequestException(
            $"'{Model}': {what} is refused while the guard holds serving on the good weights {g.Good}: it rolled the line back{when} ({g.LastRollback?.ToString() ?? "served line worse"}) "
            + $"and publishing is halted, and {what} would serve that line again unjudged. Run 'freshet resume --model {Model}' first (--from good discards what the line learned; "
            + "--from line keeps it, after a false alarm): it publishes a new line from a full checkpoint, which the guard judges");
    }

    /// <summary>
    /// The served-quality guard, every <see cref="GuardSpec.CheckEvery"/>: the joiners' paired sums against the good
    /// weights, merged, judged by <see cref="ServedGuard.Judge"/>'s sequential test, the version being served included.
    /// Worse: serving goes back to the good weights and publishing halts. Not worse on <see cref="GuardSpec.MinPairs"/>
    /// pairs: the oldest judged version becomes the good one (replicas bring their copy to it), and the next test starts
    /// on the pairs it shadows. Otherwise the test goes on at the next check.
    /// </summary>
    private async Task GuardAsync(DateTime now, DeploymentSpec spec, GuardSpec guard, List<DeploymentEvent> events)
    {
        var g = state.State.Guard;
        if (!GuardPolicy.Due(g, guard, now)) return;
        if (g.Good is not { } good)
        {
            // The first good weights: the checkpoint serving holds, as the guard starts watching.
            if (state.State.ServingCheckpoint is { } checkpoint) await MarkGoodAsync(new WeightsVersion(checkpoint));
            return;
        }
        var joiners = await Task.WhenAll(Enumerable.Range(0, spec.Feedback!.Joiners).Select(j => grains.Joiner(spec.Model, j).GetStatusAsync()));
        var verdict = ServedGuard.Judge(ServedQuality.Merge(joiners.SelectMany(j => j.Quality)), good, guard, g.Floor);
        if (verdict.Action == GuardAction.Good) await MarkGoodAsync(verdict.From!.Value);
        var happened = GuardPolicy.Apply(g, verdict, good, now);
        if (verdict.Action == GuardAction.Rollback)
        {
            await grains.GetGrain<Serving.IServingVersionGrain>(spec.Model).HaltAsync(good);
            await weights.AnnounceAsync(this, spec.Model, Weights.WeightMessageKind.Revert, good);
        }
        if (happened is not null) events.Add(happened);
    }

    private async Task MarkGoodAsync(WeightsVersion good)
    {
        state.State.Guard.Good = good;
        await grains.GetGrain<Serving.IServingVersionGrain>(Model).SetGoodAsync(good);
        await weights.AnnounceAsync(this, Model, Weights.WeightMessageKind.Good, good);
    }

    public async Task<DeploymentStatus> StopAsync()
    {
        var spec = Spec();
        if (state.State.Mode == Mode.Promotion) await B(spec).StopAsync();
        await Main(spec).StopAsync();
        state.State.Running = false;
        _timer?.Dispose();
        _timer = null;
        Record(new DeploymentEvent { Time = Now(), Kind = DeploymentEventKind.Stop, Job = DeploymentJob.Main, Weights = state.State.ServingCheckpoint is { } serving ? new WeightsVersion(serving) : null });
        await state.WriteStateAsync();
        return await GetStatusAsync();
    }

    public async Task<DeploymentStatus> GetStatusAsync()
    {
        var spec = state.State.Spec;
        return new DeploymentStatus
        {
            Model = Model,
            Mode = state.State.Mode,
            Spec = spec,
            ServingCheckpoint = state.State.ServingCheckpoint,
            Now = state.State.Now,
            NextPublish = state.State.NextPublish,
            NextCheckpoint = state.State.Mode == Mode.Daily ? state.State.NextCheckpoint : state.State.NextSwitch,
            Main = spec is null ? null : await Main(spec).GetStatusAsync(),
            B = spec is null || state.State.Mode != Mode.Promotion ? null : await B(spec).GetStatusAsync(),
            Events = [.. state.State.Events],
            Guard = spec?.Feedback?.Guard is null ? null : state.State.Guard.ToStatus(),
        };
    }

    private void StartClock()
    {
        _timer?.Dispose();
        var spec = state.State.Spec!;
        if (spec.Clock == ClockKind.Manual) return;
        // Ticks often enough that a publish is at most a quarter interval late (and at least once a second).
        var period = TimeSpan.FromTicks(Math.Clamp(spec.PublishInterval.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _timer = this.RegisterGrainTimer(async _ =>
        {
            DateTime? now = spec.Clock == ClockKind.Wall
                ? time.GetUtcNow().UtcDateTime
                : (await Main(spec).GetStatusAsync()).Trainers.Select(t => t.EventTime).Max();
            if (now is { } t && (state.State.Now is null || t > state.State.Now)) await TickAsync(t);
        }, new GrainTimerCreationOptions(period, period) { Interleave = false, KeepAlive = true });
    }

    /// <summary>A delta of the publishing job's changes on the version serving holds; the next one is due an interval later, published or not.</summary>
    private async Task<DeploymentEvent> PublishDeltaAsync(DeploymentSchedule schedule, DateTime now, DeploymentSpec spec)
    {
        var job = schedule.Publishing;
        schedule.RestartInterval(state.State, now);
        PublishResult published;
        try
        {
            published = await Job(spec, job).PublishAsync();
        }
        catch (PublishFailedException e)
        {
            return new DeploymentEvent { Time = now, Kind = DeploymentEventKind.PublishFailed, Job = job, Detail = e.Message };
        }
        state.State.ServingCheckpoint = published.Weights.Checkpoint;
        return DeploymentEvents.Published(now, job, published);
    }

    private void Record(DeploymentEvent e)
    {
        var spec = state.State.Spec;
        instruments.Transitions.Add(1, FreshetTags.Of(Model, spec is null ? null : spec.JobOf(e.Job)).With("kind", e.Kind.Name()));
        using (var activity = FreshetTelemetry.Deployments.StartActivity("freshet.deployment." + e.Kind.Name()))
        {
            activity?.SetTag("freshet.model", Model);
            activity?.SetTag("freshet.job", e.Job.Name());
            activity?.SetTag("freshet.serving_version", e.Weights?.Checkpoint);
            activity?.SetTag("freshet.delta_sequence", e.Weights?.Delta);
            activity?.SetTag("freshet.weights", e.Weights?.ToString());
            activity?.SetTag("freshet.detail", e.Detail);
        }
        state.State.Events.Add(e);
        if (state.State.Events.Count > EventsKept) state.State.Events.RemoveRange(0, state.State.Events.Count - EventsKept);
        LogEvent(logger, Model, e.Kind.Name(), e.Job.Name(), e.Weights?.ToString() ?? "none", e.Detail);
    }

    private DateTime Now() => state.State.Now ?? time.GetUtcNow().UtcDateTime;

    private DeploymentSpec Spec() => state.State.Spec ?? throw new JobRequestException($"deployment '{Model}' is not started; start it first");

    private ITrainingOrchestratorGrain Job(DeploymentSpec spec, DeploymentJob job) => grains.Job(spec.JobOf(job));

    private ITrainingOrchestratorGrain Main(DeploymentSpec spec) => Job(spec, DeploymentJob.Main);

    private ITrainingOrchestratorGrain B(DeploymentSpec spec) => Job(spec, DeploymentJob.B);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {Model}: {Kind} by {Job}; serving {Weights}: {Detail}")]
    private static partial void LogEvent(ILogger logger, string model, string kind, string job, string weights, string detail);
}
