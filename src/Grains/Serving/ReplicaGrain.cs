using Freshet.Model.Checkpoints;
using Freshet.Model.Serving;
using Freshet.Serving;
using Microsoft.Extensions.Logging;
using Freshet.Grains.Hosting;
using Freshet.Grains.Placement;
using Freshet.Grains.Weights;
using Orleans.Streams;

namespace Freshet.Grains.Serving;

/// <summary>
/// Keeps this silo's replica of a model on the model's weights stream, the reading end of <see cref="WeightsChannel"/>: acts on
/// the messages silos sealed and drops any other, reassembles delta chunks (<see cref="DeltaAssembler"/>),
/// applies deltas exactly once and in order (a duplicate is ignored, a gap is filled from the
/// deltas retained in the checkpoint store, never skipped), and loads announced checkpoints off the
/// scoring path.
/// </summary>
[SiloKeyPlacement]
public sealed partial class ReplicaGrain(ServingRegistry registry, WeightsChannel channel, ILocalSiloDetails silo, HeapCompactor compactor, ILogger<ReplicaGrain> logger) : Grain, IReplicaGrain, IWeightsReader
{
    private readonly DeltaAssembler _assembler = new();
    private StreamSubscriptionHandle<WeightMessage>? _subscription;
    private IGrainTimer? _watch;
    private WeightsVersion? _behindAt;
    private string _model = "";
    private bool _mine;

    /// <summary>How often the replica compares itself with the store (see <see cref="WatchAsync"/>).</summary>
    public static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(5);

    /// <summary>How long a replica no deployment follows (no version announced) stays loaded unused.</summary>
    public static readonly TimeSpan UnfollowedIdle = TimeSpan.FromMinutes(1);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = ReplicaKey.Parse(this.GetPrimaryKeyString());
        _model = key.Model;
        _mine = key.Silo.Equals(silo.SiloAddress);
        if (_mine)
        {
            // Reactivated (after a collection, or woken by a delivery): take up the subscription it had, or
            // the deliveries meant for this silo would find no handler.
            await ResumeAsync(subscribeIfNone: false);
        }
        else
        {
            // A replica grain of a silo that is gone, woken here by its old subscription: not ours to keep.
            await WeightsChannel.UnsubscribeAsync(this, _model);
            DeactivateOnIdle();
        }
    }

    public async Task StartAsync()
    {
        if (!_mine || _subscription is not null) return;
        await ResumeAsync(subscribeIfNone: true);
    }

    private async Task ResumeAsync(bool subscribeIfNone)
    {
        if (!subscribeIfNone && !await WeightsChannel.IsSubscribedAsync(this, _model)) return;
        _subscription = await WeightsChannel.SubscribeAsync(this, _model, DeliverAsync);
        _watch ??= this.RegisterGrainTimer(WatchAsync, new GrainTimerCreationOptions(WatchPeriod, WatchPeriod) { Interleave = false, KeepAlive = true });
    }

    /// <summary>
    /// The stream's safety net. A stream can stop delivering to a subscriber and say nothing (a queue cache that
    /// dropped the messages its cursor pointed at stalls that queue for good), and a checkpoint announcement can be
    /// lost with it. Every <see cref="WatchPeriod"/> the replica compares itself with what serving should hold: the
    /// version announced (<see cref="IServingVersionGrain"/>) and the deltas retained on it. Behind on two checks in
    /// a row with no progress between them, it catches up from the store and renews its subscription.
    /// </summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        if (!registry.Holds(_model))
        {
            await LeaveAsync();
            return;
        }
        if (registry.TryGet(_model) is not { } replica || replica.TargetCheckpoint is not { } target) return;
        var serving = GrainFactory.GetGrain<IServingVersionGrain>(_model);
        var followed = await serving.GetAsync();
        if (followed is null && registry.IdleFor(_model) > UnfollowedIdle)
        {
            registry.Drop(_model, $"no deployment follows it (no version announced) and it was not scored for {UnfollowedIdle}");
            await LeaveAsync();
            return;
        }
        var announced = followed ?? target;
        // The guard's marks, should their messages have been lost with the stream: a rollback, and the good weights.
        var marks = await serving.GetGuardAsync();
        if (marks.Halt is { } halt && halt.Checkpoint == announced && replica.Halt != halt) await RevertAsync(replica, halt);
        if (marks.Good is { } good && replica.GoodWeights != good && marks.Halt is null) await registry.LoadGoodAsync(replica, good);
        var retained = await registry.Store.ListFilesAsync(_model, announced, CheckpointFiles.DeltaPrefix, cancellationToken);
        var newest = retained.Select(CheckpointFiles.DeltaSequence).DefaultIfEmpty(0).Max();
        if (replica.Halt is { } ceiling && ceiling.Checkpoint == announced) newest = Math.Min(newest, ceiling.Delta);
        var at = replica.Weights ?? new WeightsVersion(0);
        if (announced == replica.Weights?.Checkpoint && newest <= at.Delta)
        {
            _behindAt = null;
            return;
        }
        if (_behindAt != at)
        {
            _behindAt = at; // behind now, maybe only by what is in flight: look again next time
            return;
        }
        LogStalled(logger, _model, at, announced, newest);
        if (!await CatchUpToAsync(replica, announced))
        {
            foreach (var name in retained.Where(n => CheckpointFiles.DeltaSequence(n) > (replica.Weights?.Delta ?? 0)))
            {
                try
                {
                    if (replica.Offer(await ServingReplica.ReadDeltaAsync(registry.Store, _model, announced, name, cancellationToken)) != DeltaOutcome.Applied) break;
                }
                catch (Model.Checkpoints.CheckpointException e)
                {
                    replica.ReportError(e.Message);
                    LogBadDelta(logger, _model, e.Message);
                    break;
                }
            }
        }
        _behindAt = null;
        // A fresh subscription: the stalled one's cursor goes with the old handle.
        _subscription = await WeightsChannel.SubscribeAsync(this, _model, DeliverAsync, fresh: true);
    }

    public async Task DeliverAsync(WeightMessage message)
    {
        if (!_mine) return;
        if (registry.Held(_model) is not { } held)
        {
            // Unloaded (the silo holds its most models, or none follows this one): a later scoring call loads it again from the store.
            await LeaveAsync();
            return;
        }
        var replica = await held;
        if (!channel.IsSealed(message))
        {
            // Not from a silo of this cluster (or from one with another cluster key): acting on it would let its writer
            // choose what serving answers, and dropping it loses nothing a silo sent.
            var problem = $"a {message.Kind} message for {message.Weights} on the weights stream was not sealed by a silo of this cluster and was dropped; if silos sent it, give every silo the same Freshet:Silo:ClusterKey";
            replica.ReportError(problem);
            LogUnsealed(logger, _model, problem);
            return;
        }
        switch (message.Kind)
        {
            case WeightMessageKind.Good:
                if (await registry.LoadGoodAsync(replica, message.Weights)) LogGood(logger, _model, message.Weights);
                else LogBadDelta(logger, _model, replica.LastError ?? "the good weights could not be loaded");
                break;
            case WeightMessageKind.Revert:
                await RevertAsync(replica, message.Weights);
                break;
            case WeightMessageKind.Checkpoint or WeightMessageKind.Rollback:
                // The version serving follows is the one announced now, whatever the message says: a queue stream delivers a
                // message again, late and out of order, when the agent that read it died (an old checkpoint's announcement
                // after a newer one, or after a rollback), and following it would take the replica back.
                var checkpoint = await GrainFactory.GetGrain<IServingVersionGrain>(_model).GetAsync() ?? message.Weights.Checkpoint;
                if (checkpoint != message.Weights.Checkpoint) LogStaleAnnouncement(logger, _model, message.Kind.ToString().ToLowerInvariant(), message.Weights.Checkpoint, checkpoint);
                replica.TargetCheckpoint = checkpoint;
                replica.Halt = null; // an announced checkpoint lifts a guard rollback's ceiling
                _assembler.Forget(checkpoint);
                if (replica.Weights?.Checkpoint != checkpoint) await LoadAsync(replica, checkpoint);
                LogSwitched(logger, _model, message.Kind.ToString().ToLowerInvariant(), replica.Weights ?? message.Weights);
                break;
            case WeightMessageKind.Delta:
                if (_assembler.Add(message) is not { } whole) return;
                var arrived = DateTime.UtcNow;
                WeightDelta delta;
                try
                {
                    delta = WeightDelta.Decode(whole, $"delta {message.Model} {message.Weights} from the weights stream");
                }
                catch (InvalidDataException e)
                {
                    // Not applied; the next delta finds a gap and reads this one from the store instead.
                    replica.ReportError(e.Message);
                    LogBadDelta(logger, _model, e.Message);
                    return;
                }
                await OfferAsync(replica, delta);
                replica.RecordArrival(delta.Version, delta.SnapshotUtc, arrived);
                if (replica.Weights is { } at) _assembler.Forget(at.Checkpoint, at.Delta);
                break;
        }
    }

    /// <summary>Leaves the weights stream and goes, once this silo no longer holds the model.</summary>
    private async Task LeaveAsync()
    {
        _watch?.Dispose();
        _watch = null;
        _subscription = null;
        await WeightsChannel.UnsubscribeAsync(this, _model);
        DeactivateOnIdle();
    }

    /// <summary>The guard's rollback: serve the good weights (kept beside the served ones, else loaded to them).</summary>
    private async Task RevertAsync(ServingReplica replica, WeightsVersion good)
    {
        if (!replica.Revert(good)) await LoadAsync(replica, good.Checkpoint);
        _assembler.Forget(good.Checkpoint, long.MaxValue);
        LogReverted(logger, _model, replica.Weights ?? good, good);
    }

    public async Task<ReplicaStatus> GetStatusAsync()
    {
        var replica = await registry.GetAsync(_model);
        return StatusOf(replica, registry.SiloName);
    }

    internal static ReplicaStatus StatusOf(ServingReplica replica, string silo) => new()
    {
        Silo = silo,
        Model = replica.Model,
        Weights = replica.Weights,
        TargetCheckpoint = replica.TargetCheckpoint,
        WeightsUtc = replica.WeightsUtc,
        WeightsAge = DateTime.UtcNow - replica.WeightsUtc,
        Applied = replica.Applied,
        Duplicates = replica.Duplicates,
        Refused = replica.Refused,
        Gaps = replica.Gaps,
        FreshnessMs = replica.FreshnessMs,
        DeliveredMs = replica.ArrivalsMs.DeliveredMs,
        ApplyMs = replica.ArrivalsMs.ApplyMs,
        Error = replica.LastError,
        Good = replica.GoodWeights,
        Halt = replica.Halt,
        CallsScored = replica.CallsScored,
        RowsScored = replica.RowsScored,
        CatchUps = replica.CatchUps,
        TimesRejected = replica.TimesRejected,
    };

    private async Task OfferAsync(ServingReplica replica, WeightDelta delta)
    {
        if (delta.Model == _model && delta.Version.Checkpoint != replica.TargetCheckpoint)
        {
            // A delta on a checkpoint this replica was not told of: the announcement was lost, or comes later (a queue
            // redelivers late what a dead agent had read). Serving follows what is announced, so ask, and if it is this
            // delta's checkpoint, take that checkpoint now instead of refusing everything built on it.
            var announced = await GrainFactory.GetGrain<IServingVersionGrain>(_model).GetAsync();
            if (announced == delta.Version.Checkpoint)
            {
                LogAdopted(logger, _model, delta.Version, replica.TargetCheckpoint);
                await CatchUpToAsync(replica, announced.Value);
            }
        }
        var outcome = replica.Offer(delta);
        if (outcome == DeltaOutcome.NeedsBase)
        {
            await LoadAsync(replica, replica.TargetCheckpoint!.Value);
            outcome = replica.Offer(delta);
        }
        if (outcome == DeltaOutcome.Gap)
        {
            // Fill the gap from the deltas retained beside the base checkpoint, in order; if one is not
            // there, reload the base with everything retained (it has this delta's predecessors). A retained
            // delta that fails its check is not applied: the replica serves what it has and names the file.
            var store = registry.Store;
            var checkpoint = delta.Version.Checkpoint;
            var retained = await store.ListFilesAsync(delta.Model, checkpoint, CheckpointFiles.DeltaPrefix);
            for (var s = (replica.Weights?.Delta ?? 0) + 1; s < delta.Version.Delta; s++)
            {
                if (!retained.Contains(CheckpointFiles.Delta(s)))
                {
                    await LoadAsync(replica, checkpoint);
                    break;
                }
                WeightDelta missing;
                try
                {
                    missing = await ServingReplica.ReadDeltaAsync(store, delta.Model, checkpoint, CheckpointFiles.Delta(s), CancellationToken.None);
                }
                catch (Model.Checkpoints.CheckpointException e)
                {
                    replica.ReportError(e.Message);
                    LogBadDelta(logger, _model, e.Message);
                    break;
                }
                replica.Offer(missing);
            }
            outcome = replica.Offer(delta);
            LogCaughtUp(logger, _model, delta.Version, outcome.ToString());
        }
        if (outcome == DeltaOutcome.Refused) LogRefused(logger, _model, delta.Version, replica.TargetCheckpoint);
    }

    /// <summary>
    /// Follows <paramref name="announced"/>, the version serving holds, found by the replica itself (a lost or late
    /// announcement): counted as a catch-up, a guard ceiling on another checkpoint lifted, and the checkpoint loaded
    /// unless it is the one served. Returns whether it was loaded.
    /// </summary>
    private async Task<bool> CatchUpToAsync(ServingReplica replica, long announced)
    {
        replica.CountCatchUp();
        replica.TargetCheckpoint = announced;
        if (replica.Halt is { } lifted && lifted.Checkpoint != announced) replica.Halt = null;
        if (replica.Weights?.Checkpoint == announced) return false;
        await LoadAsync(replica, announced);
        return true;
    }

    /// <summary>Loads checkpoint <paramref name="version"/> off the grain's turn; a failure is named in the replica's status before it is thrown on.</summary>
    private async Task LoadAsync(ServingReplica replica, long version)
    {
        try
        {
            await Task.Run(() => replica.LoadAsync(registry.Store, version));
            compactor.AfterLargeRelease($"{_model}: serving checkpoint {version}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var problem = $"checkpoint {version} could not be loaded ({e.GetType().Name}: {e.Message}); serving goes on with {replica.Weights?.ToString() ?? "nothing"} and its watch tries again (every {WatchPeriod.TotalSeconds:F0} s)";
            replica.ReportError(problem);
            LogLoadFailed(logger, _model, problem);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica of {Model} on {Kind}: serving {Weights}")]
    private static partial void LogSwitched(ILogger logger, string model, string kind, WeightsVersion weights);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica of {Model} keeps {Good} as the last good weights")]
    private static partial void LogGood(ILogger logger, string model, WeightsVersion good);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} rolled back by the guard: serving {Weights} (the good weights {Good})")]
    private static partial void LogReverted(ILogger logger, string model, WeightsVersion weights, WeightsVersion good);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica of {Model} caught up a gap before delta {Weights}: {Outcome}")]
    private static partial void LogCaughtUp(ILogger logger, string model, WeightsVersion weights, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} at {Weights} got nothing from the weights stream while serving holds checkpoint {Announced} with deltas to {Newest}: caught up from the store and subscribed again")]
    private static partial void LogStalled(ILogger logger, string model, WeightsVersion weights, long announced, long newest);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica of {Model} did not apply a delta: {Error}")]
    private static partial void LogBadDelta(ILogger logger, string model, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} got delta {Weights} while it followed checkpoint {Target}: serving's announced version is the delta's, so the replica takes it (its announcement was lost or is late)")]
    private static partial void LogAdopted(ILogger logger, string model, WeightsVersion weights, long? target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} got a {Kind} announcement of checkpoint {Said} while serving's announced version is {Announced}: it follows {Announced} (the message came late)")]
    private static partial void LogStaleAnnouncement(ILogger logger, string model, string kind, long said, long announced);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica of {Model} did not load a checkpoint: {Problem}")]
    private static partial void LogLoadFailed(ILogger logger, string model, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} dropped a weights message: {Problem}")]
    private static partial void LogUnsealed(ILogger logger, string model, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica of {Model} refused delta {Weights}: serving follows checkpoint {Target}")]
    private static partial void LogRefused(ILogger logger, string model, WeightsVersion weights, long? target);
}
