using Freshet.Model.Serving;
using System.Diagnostics;
using Freshet.Silo;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Samples;
using Freshet.Serving;

namespace Freshet.Experiments;

/// <summary>
/// Real-time gains (the seed's second experiment): a base model trained on the log's first span, then
/// the rest replayed on event time through the cluster (trainer, orchestrator, publisher, serving
/// replica, client scoring) once per strategy. Every sample is scored by serving before its label
/// reaches training, and windowed AUC is computed on what serving answered.
/// </summary>
public static partial class RealtimeExperiment
{
    public static void Validate(Options options)
    {
        if (options.PublishInterval <= TimeSpan.Zero) throw new ArgumentException("--interval: must be positive");
        if (options.Window <= TimeSpan.Zero) throw new ArgumentException("--window: must be positive");
        if (options.UpdatesStart is { } a && options.UpdatesStop is { } b && b <= a) throw new ArgumentException("--updates-stop: must come after --updates-start");
        if (options.AttributionWindow is { } w && w <= TimeSpan.Zero) throw new ArgumentException("--attribution-window: must be positive");
        if (options.ConversionDelay is { } d && d <= TimeSpan.Zero) throw new ArgumentException("--conversion-delay: must be positive");
        if (options.Corrections.Count == 0 || options.Corrections.Any(m => m == DelayedFeedback.Wait) || options.Corrections.Distinct().Count() != options.Corrections.Count)
        {
            throw new ArgumentException("--feedback: name one or more corrections, each once: fnw, defer (waiting for labels always runs, as part+fresh+join)");
        }
    }

    public static async Task<Result> RunAsync(FeatureSchema schema, IReadOnlyList<Sample> samples, Options options, string folder, Action<string> log, Action<Progress>? progress, CancellationToken ct)
    {
        Validate(options);
        if (samples.Count == 0) throw new ArgumentException("the log has no samples");
        if (options.AttributionWindow is not null && !samples.Any(s => s.ConversionTime > 0))
        {
            throw new ArgumentException("--attribution-window: the log has no conversion times (the schema's conversion label names no time column)");
        }
        var first = new DateTime(samples[0].Time, DateTimeKind.Utc);
        var last = new DateTime(samples[^1].Time, DateTimeKind.Utc);
        var warmup = options.Warmup ?? TimeSpan.FromTicks(Math.Min(TimeSpan.FromDays(1).Ticks, (last - first).Ticks / 4));
        var warmupEnd = first + warmup;
        var split = samples.Count(s => s.Time < warmupEnd.Ticks);
        if (split == 0 || split == samples.Count)
        {
            throw new ArgumentException($"--warmup {Durations.Format(warmup)}: the log spans {first:u} to {last:u}; the base span must leave samples on both sides");
        }
        var baseSamples = samples.Take(split).ToList();
        var replay = samples.Skip(split).ToList();
        var task = schema.HasClicks ? TaskKind.Ctr : TaskKind.Cvr;

        var checkpoints = Path.Combine(folder, "checkpoints");
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        var store = new LocalCheckpointStore(checkpoints);
        log($"base model: training on {baseSamples.Count:N0} samples up to {warmupEnd:u}");
        using (var model = new InProcessParameterStore(schema))
        {
            await new StreamingTrainer(schema, model, new TrainerOptions { Plan = Strategy.All, Window = options.Window, Evaluation = EvaluationDetail.PerSample }).ReplayAsync(baseSamples, ct);
            foreach (var s in Runs(options))
            {
                await ModelCheckpoint.SaveAsync(store, model, warmupEnd, baseSamples.Count, "all", ct, ModelName(s));
            }
        }

        log("starting a local silo (training and serving roles)");
        await using var cluster = await LocalCluster.StartAsync(checkpoints, ct);
        var client = new FreshetClient(cluster.Client);
        var runs = new List<Run>();
        foreach (var name in Runs(options))
        {
            if (FeedbackOf(name) is { } method)
            {
                var window = options.AttributionWindow!.Value;
                log($"{name}: replaying with CVR labels as they arrive ({method.Name()}, attribution window {Durations.Format(window)})");
                // A live system at the replay's start still waits for the labels of the last window's clicks: they come during the replay.
                var waiting = baseSamples.Where(s => s.Task == TaskKind.Cvr && s.Time >= warmupEnd.Ticks - window.Ticks && !(s.Label > 0.5f && ConversionAt(s) < warmupEnd.Ticks)).ToList();
                runs.Add(await RunOneAsync(client, cluster, schema, name, replay, task, options, (method, window, waiting), progress, ct));
            }
            else
            {
                log($"{name}: replaying {replay.Count:N0} samples from {replay[0].Time.ToUtc():u}");
                runs.Add(await RunOneAsync(client, cluster, schema, name, replay, task, options, null, progress, ct));
            }
        }
        return new Result(task.Name(), warmupEnd, last, baseSamples.Count, replay.Count, options, runs);
    }

    /// <summary>part+fresh with CVR labels waiting for their conversion or their attribution window (the naive join).</summary>
    public static readonly string JoinedName = RealtimeStrategy.PartFresh.Name + "+join";

    /// <summary>part+fresh with CVR labels corrected for delayed feedback by <paramref name="method"/> (<c>part+fresh+fnw</c>, <c>part+fresh+defer</c>).</summary>
    public static string CorrectedName(DelayedFeedback method) => RealtimeStrategy.PartFresh.Name + "+" + method.Name();

    /// <summary>Whether a run is one of the delayed comparison's label-joining runs (the naive join or a correction).</summary>
    public static bool IsDelayedRun(string run) => FeedbackOf(run) is not null;

    /// <summary>part+fresh with every label at once (what a live system cannot have): the delayed comparison's ceiling.</summary>
    public static readonly string OracleName = RealtimeStrategy.PartFresh.Name;

    /// <summary>The runs of an experiment, in order: the strategies, then with an attribution window base and the oracle if missing, the naive join and the correction.</summary>
    public static IReadOnlyList<string> Runs(Options options) => options.AttributionWindow is null
        ? [.. options.Strategies.Select(s => s.Name)]
        : [.. options.Strategies.Select(s => s.Name).Union([RealtimeStrategy.Base.Name, OracleName]), JoinedName, .. options.Corrections.Select(CorrectedName)];

    private static DelayedFeedback? FeedbackOf(string run) =>
        run == JoinedName ? DelayedFeedback.Wait : DelayedFeedbacks.All.Where(m => m != DelayedFeedback.Wait && CorrectedName(m) == run).Select(m => (DelayedFeedback?)m).FirstOrDefault();

    public static string ModelName(string strategy) => "rt-" + strategy.Replace("+", "", StringComparison.Ordinal);

    private static DateTime ToUtc(this long ticks) => new(ticks, DateTimeKind.Utc);

    private static async Task<Run> RunOneAsync(FreshetClient client, LocalCluster cluster, FeatureSchema schema, string name, List<Sample> replay, TaskKind task, Options options, (DelayedFeedback Method, TimeSpan Window, List<Sample> Waiting)? feedback, Action<Progress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var model = ModelName(name);
        // A delayed-feedback run trains as part+fresh; every other run is named by its strategy.
        var strategy = feedback is not null ? RealtimeStrategy.PartFresh
            : RealtimeStrategy.TryParse(name, out var named) ? named : throw new ArgumentException($"'{name}' is not a real-time run");
        var spec = new DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = options.Shards, PublishInterval = options.PublishInterval, Clock = ClockKind.Manual, RestoreLatest = true,
            Strategy = strategy.JobStrategy, FreshRowBudget = strategy.FreshRowBudget, PromotionEvery = options.PromotionEvery,
            DailyCheckpoints = false, // the strategies ship what they name; full updates are the scenario's (T2) and promotion's
            // The replay waits for the trainer at each publish time: a partial batch must not sit for a second.
            MaxBatchWait = TimeSpan.FromMilliseconds(20),
        };
        var t0 = replay[0].Time.ToUtc();
        var trains = strategy.Trains;
        var events = new List<string>();
        if (trains)
        {
            await client.StartAsync(spec);
            await client.TickAsync(model, t0);
            if (strategy.Mode == Mode.Promotion)
            {
                var s = await client.SetModeAsync(model, Mode.Promotion, options.PromotionEvery);
                events.Add($"{t0:u} promotion-start: serving checkpoint {s.ServingCheckpoint}");
            }
        }
        var publisher = new SamplePublisher(cluster.Client, spec.JobOf(DeploymentJob.Main), 1);
        var updatesFrom = t0 + (options.UpdatesStart ?? TimeSpan.Zero);
        var updatesTo = options.UpdatesStop is { } stop ? t0 + stop : DateTime.MaxValue;
        DateTime? fullAt = options.FullUpdateAt is { } f ? t0 + f : null;
        var nextTick = t0 + options.PublishInterval;
        WeightsVersion? expected = null;
        long sent = 0;
        long sentToB = 0;
        int publishes = 0, fullCheckpoints = 0;
        var deltaBytes = new List<double>();
        var scores = new List<(long Time, float Label, float Score)>(replay.Count);
        var cvrScores = new List<(long Time, float Label, float Score)>();
        var windowStart = long.MinValue;
        var windowScores = new List<float>();
        var windowLabels = new List<float>();
        // What a live system learns as time goes: a click now, its conversion (if any) when it happens.
        var join = feedback is { } fb ? new LabelJoin<int>(fb.Method, fb.Window) : null;
        var conversions = new PriorityQueue<int, long>();
        if (feedback is { } primed)
        {
            // The base model trained on these clicks already: what the join would train for them now is dropped; their labels are still to come.
            var before = new List<Sample>();
            for (var k = 0; k < primed.Waiting.Count; k++)
            {
                var s = primed.Waiting[k];
                join!.Add(-1 - k, s.Relabelled(0f, LabelArrival.Known, 0), before);
                if (s.Label > 0.5f) conversions.Enqueue(-1 - k, ConversionAt(s));
            }
        }

        for (var i = 0; i < replay.Count;)
        {
            ct.ThrowIfCancellationRequested();
            var time = replay[i].Time.ToUtc();
            while (time >= nextTick)
            {
                if (trains && nextTick >= updatesFrom && nextTick < updatesTo)
                {
                    await WaitTrainedAsync(client, spec.JobOf(DeploymentJob.Main), sent, ct);
                    if (strategy.Mode == Mode.Promotion) await WaitTrainedAsync(client, spec.JobOf(DeploymentJob.B), sentToB, ct);
                    if (fullAt is { } at && nextTick >= at)
                    {
                        var c = await client.CheckpointAsync(model);
                        expected = new WeightsVersion(c.ServingCheckpoint!.Value);
                        fullCheckpoints++;
                        events.Add($"{nextTick:u} full update: checkpoint {c.ServingCheckpoint}");
                        fullAt = null;
                    }
                    else if (strategy.CheckpointsEveryInterval)
                    {
                        var c = await client.CheckpointAsync(model);
                        expected = new WeightsVersion(c.ServingCheckpoint!.Value);
                        fullCheckpoints++;
                    }
                    else
                    {
                        foreach (var e in await client.TickAsync(model, nextTick))
                        {
                            if (e.Kind == DeploymentEventKind.Publish)
                            {
                                expected = e.Weights!.Value;
                                publishes++;
                                deltaBytes.Add(e.Bytes ?? 0);
                            }
                            else
                            {
                                expected = new WeightsVersion(e.Weights!.Value.Checkpoint);
                                fullCheckpoints++;
                                events.Add($"{nextTick:u} {e.Kind.Name()}: {e.Weights}");
                            }
                        }
                    }
                }
                nextTick += options.PublishInterval;
            }

            // The chunk: up to the next publish time, at most Chunk samples.
            var end = i;
            while (end < replay.Count && end - i < options.Chunk && replay[end].Time < nextTick.Ticks) end++;
            var chunk = replay.GetRange(i, end - i);
            var batch = new SampleBatch { Payload = SampleCodec.Encode(chunk), Count = chunk.Count };
            var predictions = await ScoreServedAsync(client, model, batch, expected, ct);
            for (var k = 0; k < chunk.Count; k++)
            {
                var s = chunk[k];
                if (s.Task == TaskKind.Cvr && task == TaskKind.Ctr) cvrScores.Add((s.Time, s.Label, predictions[k].Cvr));
                if (s.Task != task) continue;
                var score = task == TaskKind.Ctr ? predictions[k].Ctr : predictions[k].Cvr;
                scores.Add((s.Time, s.Label, score));
                var w = s.Time - s.Time % options.Window.Ticks;
                if (w != windowStart)
                {
                    windowStart = w;
                    windowScores.Clear();
                    windowLabels.Clear();
                }
                windowScores.Add(score);
                windowLabels.Add(s.Label);
            }
            if (trains)
            {
                List<Sample> toTrain;
                if (join is not null)
                {
                    // CTR samples train at once; a click enters the join without its label, which comes as an event.
                    toTrain = [];
                    for (var k = 0; k < chunk.Count; k++)
                    {
                        var s = chunk[k];
                        if (s.Task != TaskKind.Cvr) { toTrain.Add(s); continue; }
                        join.Add(i + k, s.Relabelled(0f, LabelArrival.Known, 0), toTrain);
                        if (s.Label > 0.5f) conversions.Enqueue(i + k, ConversionAt(s));
                    }
                    var now = chunk[^1].Time;
                    while (conversions.TryPeek(out var key, out var at) && at <= now)
                    {
                        conversions.Dequeue();
                        join.Positive(key, at, toTrain);
                    }
                    join.Advance(now, toTrain);
                }
                else
                {
                    toTrain = chunk;
                }
                if (toTrain.Count > 0)
                {
                    await publisher.PublishAsync(toTrain, end: false, cancellationToken: ct);
                    sent += toTrain.Count;
                    if (strategy.Mode == Mode.Promotion) sentToB += toTrain.Count;
                }
            }
            i = end;
            progress?.Invoke(new Progress(name, i, replay.Count, WindowAuc(windowScores, windowLabels), publishes + fullCheckpoints, predictions[0].Weights, predictions[0].WeightsAge));
        }
        var freshness = new List<double>();
        if (trains)
        {
            var status = await client.GetStatusAsync(model);
            freshness.AddRange(status.Replicas.SelectMany(r => r.FreshnessMs));
            foreach (var e in status.Deployment.Events.Where(e => e.Kind is not DeploymentEventKind.Publish)) events.Add($"{e.Time:u} {e.Kind.Name()} ({e.Job.Name()}): {e.Weights}");
            await client.StopAsync(model);
        }
        var windows = Windows(scores, options.Window);
        var meanAuc = MeanAuc(windows);
        double? cvrMeanAuc = task == TaskKind.Cvr ? meanAuc : cvrScores.Count == 0 ? null : MeanAuc(Windows(cvrScores, options.Window));
        return new Run(name, windows, meanAuc,
            WindowAuc([.. scores.Select(s => s.Score)], [.. scores.Select(s => s.Label)]), cvrMeanAuc, publishes, fullCheckpoints, deltaBytes, freshness, clock.Elapsed.TotalSeconds, events.Distinct().ToList());
    }

    /// <summary>When a positive CVR sample's conversion became known (its own time where the log records none).</summary>
    private static long ConversionAt(Sample s) => Math.Max(s.ConversionTime, s.Time);

    private static List<WindowPoint> Windows(List<(long Time, float Label, float Score)> scores, TimeSpan window) =>
        [.. scores.GroupBy(s => s.Time - s.Time % window.Ticks).OrderBy(g => g.Key)
            .Select(g => new WindowPoint(g.Key.ToUtc(), g.Count(), (long)g.Sum(x => x.Label), WindowAuc([.. g.Select(x => x.Score)], [.. g.Select(x => x.Label)])))];

    private static double? MeanAuc(List<WindowPoint> windows)
    {
        var defined = windows.Where(w => w.Auc is not null).ToList();
        return defined.Count == 0 ? null : defined.Average(w => w.Auc!.Value);
    }

    private static double? WindowAuc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        var positives = labels.Count(l => l > 0.5f);
        if (positives == 0 || positives == labels.Count) return null;
        var auc = Auc.Compute([.. scores], [.. labels]);
        return double.IsFinite(auc) ? auc : null;
    }

    /// <summary>Scores through serving; when a publish is expected, until serving holds it (it applies deltas asynchronously).</summary>
    private static async Task<IReadOnlyList<Prediction>> ScoreServedAsync(FreshetClient client, string model, SampleBatch batch, WeightsVersion? expected, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var p = await client.ScoreSamplesAsync(model, batch);
            if (expected is not { } e || p.Count == 0 || p[0].Weights >= e) return p;
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"serving of '{model}' did not reach weights {e} in 60 s (it holds {p[0].Weights})");
            }
            await Task.Delay(5, ct);
        }
    }

    private static async Task WaitTrainedAsync(FreshetClient client, string job, long samples, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await client.GetJobStatusAsync(job);
            if (status.Error is { } error) throw new InvalidOperationException($"job {job} failed: {error}");
            if (status.Trainers.Sum(t => t.SamplesTrained) >= samples) return;
            if (deadline.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"job {job} trained {status.Trainers.Sum(t => t.SamplesTrained)} of {samples} samples in 2 minutes");
            await Task.Delay(5, ct);
        }
    }
}
