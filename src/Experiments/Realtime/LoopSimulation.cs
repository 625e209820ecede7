using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Feedback;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Synthetic;
using Freshet.Parameters;
using Freshet.Serving;

namespace Freshet.Experiments;

/// <summary>
/// The feedback loop end to end on a simulated clock: a deployment trained on the synthetic stream's first rows, then
/// its traffic, step by step: every impression scored through the SDK at its own time, its click (a few minutes later)
/// and conversion (at its time) reported with <see cref="FreshetClient.ReportAsync(IReadOnlyList{FeedbackLabel})"/>, the
/// joiners making the training samples, and the deployment ticked on the same clock (publishing, the guard judging).
/// Faults on request: a producer flipping labels for a while (<see cref="Options.PoisonAt"/>), and a corrupted update of
/// the dense tier just before a publish (<see cref="Options.CorruptAt"/>). Every wait is on a condition with a deadline.
/// </summary>
public static class LoopSimulation
{
    public sealed record Options
    {
        public string Model { get; init; } = "loop";

        /// <summary>The synthetic stream (its promotion window, its rate); null: the schema's.</summary>
        public SyntheticOptions? Synthetic { get; init; }

        /// <summary>Labelled rows trained before serving starts (the base model).</summary>
        public int WarmupRows { get; init; } = 30_000;

        /// <summary>Simulated time the loop runs after the warm-up.</summary>
        public TimeSpan Duration { get; init; } = TimeSpan.FromHours(6);

        /// <summary>One step of the simulation: its impressions are scored in one call, its due labels reported in one.</summary>
        public TimeSpan Step { get; init; } = TimeSpan.FromMinutes(2);

        public TimeSpan PublishInterval { get; init; } = TimeSpan.FromMinutes(10);

        public TimeSpan ClickWindow { get; init; } = TimeSpan.FromMinutes(10);

        public TimeSpan AttributionWindow { get; init; } = TimeSpan.FromHours(2);

        /// <summary>Clicks are reported a uniform 0 to this long after their impression.</summary>
        public TimeSpan ClickDelay { get; init; } = TimeSpan.FromMinutes(3);

        public GuardSpec Guard { get; init; } = new() { ShadowShare = 1, MinPairs = 1_000, CheckEvery = TimeSpan.FromMinutes(5) };

        /// <summary>When (after the warm-up) a producer starts sending each impression again with its click label flipped.</summary>
        public TimeSpan? PoisonAt { get; init; }

        public TimeSpan PoisonFor { get; init; } = TimeSpan.FromHours(1);

        /// <summary>Flipped copies of each impression the poisoned producer sends.</summary>
        public int PoisonCopies { get; init; } = 3;

        /// <summary>When (after the warm-up) the dense tier's CTR tower is corrupted (many pushes of one garbage gradient), just before a publish.</summary>
        public TimeSpan? CorruptAt { get; init; }

        /// <summary>How long after a guard rollback publishing resumes (a full checkpoint, a new line); null: stays halted.</summary>
        public TimeSpan? ResumeAfter { get; init; }

        /// <summary>Where training starts again on resuming: the good weights' checkpoint (what the bad line learned discarded) or the line as it is.</summary>
        public ResumeFrom ResumeFrom { get; init; } = ResumeFrom.Good;

        /// <summary>How long after a fault a rollback is still put down to it (the fault's effects still served).</summary>
        public TimeSpan FaultEffect { get; init; } = TimeSpan.FromHours(2);

        public int Shards { get; init; } = 2;

        public int Joiners { get; init; } = 2;

        public int Seed { get; init; } = 11;
    }

    /// <summary>A guard rollback: when, the verdict with both figures, and whether a fault explains it.</summary>
    public sealed record Rollback(DateTime Time, GuardVerdict Verdict, bool Explained);

    public sealed record Result
    {
        public required string Model { get; init; }
        public DateTime Start { get; init; }
        public DateTime End { get; init; }
        public long Scored { get; init; }
        public long Shadowed { get; init; }
        public long Clicks { get; init; }
        public long Conversions { get; init; }
        public long PoisonSamples { get; init; }
        public int Publishes { get; init; }
        public int Resumes { get; init; }
        public int GoodVerdicts { get; init; }
        public IReadOnlyList<Rollback> Rollbacks { get; init; } = [];

        /// <summary>Rollbacks no fault explains.</summary>
        public int FalseRollbacks => Rollbacks.Count(r => !r.Explained);

        /// <summary>From the first fault to the first rollback it explains, in simulated minutes; null when none.</summary>
        public double? DetectedAfterMinutes { get; init; }

        public DateTime? FaultStart { get; init; }
        public DateTime? FaultEnd { get; init; }

        /// <summary>What serving answered, per weights version, and when each version was first served.</summary>
        public IReadOnlyList<(ServedQuality Quality, DateTime FirstServed)> Served { get; init; } = [];

        public IReadOnlyList<DeploymentEvent> Events { get; init; } = [];
        public TimeSpan Elapsed { get; init; }
    }

    /// <param name="client">The SDK on the cluster.</param>
    /// <param name="cluster">The cluster's client: the producer's streams, the joiners' counts.</param>
    /// <param name="grains">Grains as a silo's own code reaches them (the corruption pushes to the dense tier, which no client may); default <paramref name="cluster"/>.</param>
    public static async Task<Result> RunAsync(FreshetClient client, IClusterClient cluster, FeatureSchema schema, Options options, IGrainFactory? grains = null,
        Action<string>? log = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var reader = SampleReader.Open(schema, SampleReader.SyntheticData);
        var synthetic = options.Synthetic ?? schema.Source.Synthetic ?? new SyntheticOptions();
        var source = new SyntheticStream(synthetic);
        var rows = source.Read(reader.BadRows, ct).GetEnumerator();
        var columns = SyntheticStream.Columns.ToList();
        int Col(string name) => columns.IndexOf(name);
        var fields = schema.Fields
            .Where(f => f.Kind != FieldKind.Rate && (f.Derive ?? TimeDerivation.None) == TimeDerivation.None && f.Column is not null)
            .Select(f => (f.Name, Index: Col(f.Column!.Split(':')[0])))
            .Where(f => f.Index >= 0)
            .ToArray();
        var (click, conversion, conversionTime) = (Col("click"), Col("conversion"), Col("conversion_time"));
        var model = options.Model;
        var spec = new DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = options.Shards, PublishInterval = options.PublishInterval, Clock = ClockKind.Manual,
            DailyCheckpoints = false, MaxBatchWait = TimeSpan.FromMilliseconds(20),
            Feedback = new FeedbackSpec
            {
                Method = DelayedFeedback.Fnw, ClickWindow = options.ClickWindow, AttributionWindow = options.AttributionWindow, Joiners = options.Joiners,
                Guard = options.Guard,
            },
        };
        var job = spec.JobOf(DeploymentJob.Main);
        var publisher = new Freshet.Client.SamplePublisher(cluster, job, spec.Trainers);

        // The base model: the stream's first rows, labelled, trained and checkpointed before serving starts.
        var warmup = new List<Sample>();
        var buffer = new List<Sample>();
        DateTime t0 = default;
        for (var i = 0; i < options.WarmupRows && rows.MoveNext(); i++)
        {
            buffer.Clear();
            reader.Featurize(rows.Current, buffer);
            warmup.AddRange(buffer);
            t0 = new DateTime(rows.Current.Time, DateTimeKind.Utc);
        }
        await client.StartAsync(spec);
        await client.TickAsync(model, t0);
        long sent = await publisher.PublishAsync(warmup, end: false, cancellationToken: ct);
        await WaitAsync(async () => await Trained(client, job) >= sent, $"job {job} trains the {sent:N0} warm-up samples", ct);
        var first = await client.CheckpointAsync(model);
        await WaitAsync(async () => (await client.GetStatusAsync(model)).Replicas.Any(r => r.Weights is { } w && w.Checkpoint == first.ServingCheckpoint),
            $"serving holds the base checkpoint {first.ServingCheckpoint}", ct);
        log?.Invoke($"{model}: base model trained on {options.WarmupRows:N0} rows up to {t0:u}; serving checkpoint {first.ServingCheckpoint}");

        var rng = new Random(options.Seed);
        var labels = new PriorityQueue<FeedbackLabel, long>();
        var events = new List<DeploymentEvent>();
        var rollbacks = new List<Rollback>();
        var firstServed = new Dictionary<WeightsVersion, DateTime>();
        long scored = 0, shadowed = 0, clicks = 0, conversions = 0, poisoned = 0, logged = 0;
        int publishes = 0, resumes = 0, good = 0;
        var end = t0 + options.Duration;
        DateTime? poisonFrom = options.PoisonAt is { } p ? t0 + p : null;
        DateTime? corruptAt = options.CorruptAt is { } c ? t0 + c : null;
        var faultStart = new[] { poisonFrom, corruptAt }.Where(x => x is not null).Min();
        var faultEnd = new[] { poisonFrom + options.PoisonFor, corruptAt }.Where(x => x is not null).Max();
        DateTime? resumeAt = null;
        var corrupted = false;
        var pending = rows.MoveNext();
        for (var t = t0; t < end && pending; t += options.Step)
        {
            ct.ThrowIfCancellationRequested();
            var stepEnd = t + options.Step;
            // This step's impressions, scored through the SDK at the step's time.
            var impressions = new List<RawRow>();
            while (pending && rows.Current.Time < stepEnd.Ticks)
            {
                impressions.Add(rows.Current);
                pending = rows.MoveNext();
            }
            foreach (var chunk in impressions.Chunk(ScoreRequest.MaxRows))
            {
                var request = chunk.Select(r => new ScoreRow { Values = fields.ToDictionary(f => f.Name, f => r.Columns[f.Index], StringComparer.Ordinal) }).ToList();
                var answers = await client.ScoreAsync(model, request, t);
                scored += answers.Count;
                firstServed.TryAdd(answers[0].Weights, t);
                for (var i = 0; i < chunk.Length; i++)
                {
                    var row = chunk[i];
                    if (row.Columns[click] != "1") continue;
                    var at = new DateTime(row.Time, DateTimeKind.Utc) + TimeSpan.FromTicks((long)(rng.NextDouble() * options.ClickDelay.Ticks));
                    labels.Enqueue(new FeedbackLabel { Prediction = answers[i].Id, Event = FeedbackEvent.Click, Time = at }, at.Ticks);
                    if (row.Columns[conversion] == "1" && long.TryParse(row.Columns[conversionTime], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
                    {
                        var converted = DateTime.UnixEpoch.AddMilliseconds(ms);
                        labels.Enqueue(new FeedbackLabel { Prediction = answers[i].Id, Event = FeedbackEvent.Conversion, Time = converted < at ? at : converted }, Math.Max(converted.Ticks, at.Ticks));
                    }
                }
            }
            logged += impressions.Count;
            // Labels go after their rows reached the joiners (serving logs them off the scoring path).
            var expectedLogged = logged;
            await WaitAsync(async () => (await Joiners(cluster, model, options.Joiners)).Sum(j => j.Predictions) >= expectedLogged, $"the joiners hold the {expectedLogged:N0} rows served", ct);
            var due = new List<FeedbackLabel>();
            while (labels.TryPeek(out _, out var when) && when < stepEnd.Ticks) due.Add(labels.Dequeue());
            foreach (var batch in due.Chunk(FreshetClient.MaxLabelsPerCall)) await client.ReportAsync(batch);
            clicks += due.Count(l => l.Event == FeedbackEvent.Click);
            conversions += due.Count(l => l.Event == FeedbackEvent.Conversion);

            // A bad producer: every impression again, with its click label flipped.
            if (poisonFrom is { } from && t >= from && t < from + options.PoisonFor)
            {
                var flipped = new List<Sample>();
                foreach (var row in impressions)
                {
                    buffer.Clear();
                    reader.Featurize(row, buffer);
                    foreach (var s in buffer.Where(s => s.Task == TaskKind.Ctr))
                    {
                        for (var k = 0; k < options.PoisonCopies; k++) flipped.Add(s.Relabelled(1 - s.Label, LabelArrival.Known, 0));
                    }
                }
                poisoned += await publisher.PublishAsync(flipped, end: false, cancellationToken: ct);
            }

            // Training catches up with everything sent (the joiners' samples and the producer's) before the clock moves on.
            var made = (await Joiners(cluster, model, options.Joiners)).Sum(j => j.CtrSamples + j.CvrSamples);
            var expected = sent + poisoned + made;
            await WaitAsync(async () => await Trained(client, job) >= expected, $"job {job} trains {expected:N0} samples", ct);

            if (corruptAt is { } ca && !corrupted && stepEnd >= ca)
            {
                await CorruptAsync(grains ?? cluster, model);
                corrupted = true;
                log?.Invoke($"{t:u} the dense tier's CTR tower is corrupted");
            }
            if (resumeAt is { } ra && stepEnd >= ra)
            {
                var resumed = await client.ResumeAsync(model, options.ResumeFrom);
                resumeAt = null;
                resumes++;
                events.Add(resumed.Events[^1]);
                await WaitServedAsync(client, model, new WeightsVersion(resumed.ServingCheckpoint!.Value), ct);
                log?.Invoke($"{stepEnd:u} publishing resumed from checkpoint {resumed.ServingCheckpoint}");
            }
            foreach (var e in await client.TickAsync(model, stepEnd))
            {
                events.Add(e);
                if (e.Kind == DeploymentEventKind.Publish)
                {
                    publishes++;
                    await WaitServedAsync(client, model, e.Weights!.Value, ct);
                }
                else if (e.Kind == DeploymentEventKind.GuardGood)
                {
                    good++;
                }
                else if (e.Kind == DeploymentEventKind.GuardRollback)
                {
                    var explained = faultStart is { } fs && stepEnd >= fs && stepEnd <= faultEnd!.Value + options.FaultEffect;
                    rollbacks.Add(new Rollback(stepEnd, e.Guard!, explained));
                    await WaitAsync(async () => (await client.GetStatusAsync(model)).Replicas.All(r => r.Weights == e.Weights && r.Halt == e.Weights),
                        $"serving goes back to {e.Weights}", ct);
                    if (options.ResumeAfter is { } after) resumeAt = stepEnd + after;
                    log?.Invoke($"{stepEnd:u} guard rollback: {e.Guard}");
                }
            }
        }
        var status = await client.GetStatusAsync(model);
        shadowed = status.Feedback!.Quality.Sum(q => q.Paired.Count);
        var detected = rollbacks.FirstOrDefault(r => r.Explained) is { } hit && faultStart is { } start ? (hit.Time - start).TotalMinutes : (double?)null;
        return new Result
        {
            Model = model, Start = t0, End = end, Scored = scored, Shadowed = shadowed, Clicks = clicks, Conversions = conversions, PoisonSamples = poisoned,
            Publishes = publishes, Resumes = resumes, GoodVerdicts = good, Rollbacks = rollbacks, DetectedAfterMinutes = detected,
            FaultStart = faultStart, FaultEnd = faultEnd,
            Served = [.. status.Feedback.Quality.Select(q => (q, firstServed.TryGetValue(q.Weights, out var at) ? at : t0))],
            Events = events, Elapsed = clock.Elapsed,
        };
    }

    /// <summary>
    /// A corrupted update from the training side: the CTR tower takes two hundred pushes of one garbage gradient (every
    /// weight pushed the same way) from a trainer that is not the job's, so the next delta carries weights that are wrong.
    /// </summary>
    public static async Task CorruptAsync(IGrainFactory grains, string model)
    {
        var dense = grains.GetGrain<IDenseGrain>(model);
        var towers = await dense.PullAsync(0, 0);
        var ctr = towers.Single(t => t.Task == TaskKind.Ctr);
        var gradient = new float[ctr.Parameters.Length / sizeof(float)];
        Array.Fill(gradient, 1f);
        var bytes = MemoryMarshal.AsBytes(gradient.AsSpan()).ToArray();
        for (var step = 1; step <= 200; step++)
        {
            await dense.PushAsync(new DensePush { Trainer = "corruption", Step = step, Task = TaskKind.Ctr, Gradients = bytes, Buffers = ctr.Buffers, LabelRate = 0.05 });
        }
    }

    private static async Task WaitServedAsync(FreshetClient client, string model, WeightsVersion version, CancellationToken ct) =>
        await WaitAsync(async () => (await client.GetStatusAsync(model)).Replicas.All(r => r.Weights >= version), $"serving holds {model} {version}", ct);

    private static async Task<JoinerStatus[]> Joiners(IGrainFactory grains, string model, int joiners) =>
        await Task.WhenAll(Enumerable.Range(0, joiners).Select(j => grains.Joiner(model, j).GetStatusAsync()));

    private static async Task<long> Trained(FreshetClient client, string job)
    {
        var status = await client.GetJobStatusAsync(job);
        if (status.Error is { } error) throw new InvalidOperationException($"job {job} failed: {error}");
        return status.Trainers.Sum(t => t.SamplesTrained);
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!await done())
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"the loop simulation waited 2 minutes for this and it did not happen: {what}");
            await Task.Delay(10, ct);
        }
    }
}
