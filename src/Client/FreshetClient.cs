using Freshet.Feedback;
using Freshet.Admin;
using Freshet.Deployments;
using Freshet.Jobs;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Freshet.Client;

/// <summary>
/// The typed client of a Freshet cluster: scoring against the served weights, and the admin calls
/// (deployments and their modes, checkpoints, rollback, status of every serving silo's replica).
/// </summary>
public sealed class FreshetClient(IClusterClient cluster)
{

    /// <summary>
    /// Scoring calls cycle over this many keys of the stateless scoring grain. The Orleans client sends all calls to one
    /// grain through one gateway (chosen by a bucket of the grain's id), so a single key would put all of this client's
    /// scoring on one serving silo, and a retry would go back to the same gateway.
    /// </summary>
    private const uint ScoringKeys = 16;

    private int _scoringKey;

    private IScoringGrain Scoring() => cluster.GetGrain<IScoringGrain>((uint)Interlocked.Increment(ref _scoringKey) % ScoringKeys);

    /// <summary>The Orleans client underneath, for producers (e.g. publishing samples).</summary>
    public IClusterClient Cluster => cluster;

    /// <summary>The silos the cluster's membership lists, with their status.</summary>
    public async Task<IReadOnlyList<SiloInfo>> GetSilosAsync(bool onlyActive = true)
    {
        var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive);
        return [.. hosts.Select(h => new SiloInfo(h.Key.ToString(), h.Value.ToString())).OrderBy(s => s.Address, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Scores rows (field name to value as text, as the model's schema names them) with the weights a
    /// serving silo holds now. Each prediction says which weights made it: <see cref="Prediction.Weights"/>
    /// (the full checkpoint and the last delta applied on it) and <see cref="Prediction.WeightsAge"/>.
    /// </summary>
    /// <exception cref="ScoringRequestException">The request cannot be served as asked: an unknown field,
    /// a value of the wrong type, more than <see cref="ScoreRequest.MaxRows"/> rows (the message names the row and field),
    /// or more bytes than one message carries (<see cref="MaxRequestBytes"/>; never sent, never retried: split the rows).</exception>
    public Task<IReadOnlyList<Prediction>> ScoreAsync(string model, IReadOnlyList<ScoreRow> rows) => ScoreAsync(model, rows, null);

    private int? _maxRequestBytes;

    /// <summary>
    /// The most bytes one request may carry: Orleans' <see cref="MessagingOptions.MaxMessageBodySize"/> as this client is
    /// configured (100 MB by default, as on the silos). A silo closes the connection of a message over its limit, which
    /// would look like a silo going away and be retried; so a larger request is refused here before it is sent, naming
    /// its size and the limit, and never retried. Set it lower when the silos' limit is lower than this client's.
    /// </summary>
    public int MaxRequestBytes
    {
        get => _maxRequestBytes ??= cluster.ServiceProvider.GetService<IOptions<ClientMessagingOptions>>()?.Value.MaxMessageBodySize ?? 100 * 1024 * 1024;
        init => _maxRequestBytes = value;
    }

    /// <summary>Room left in a message for what is not the request (the call, its target, headers of the body).</summary>
    private const int MessageOverhead = 4 * 1024;

    /// <summary>
    /// Refuses a request that would not fit one message: an upper bound from the strings' lengths first (cheap), the exact
    /// size by Orleans' serializer only when that bound is over.
    /// </summary>
    private void CheckSize<T>(T request, long upperBound, int rows, string what)
    {
        var limit = MaxRequestBytes - MessageOverhead;
        if (upperBound <= limit) return;
        var bytes = (long)cluster.ServiceProvider.GetRequiredService<Orleans.Serialization.Serializer>().SerializeToArray(request).Length;
        if (bytes <= limit) return;
        var perRow = Math.Max(1, bytes / Math.Max(1, rows));
        throw new ScoringRequestException($"{what}: {bytes:N0} bytes, over the {MaxRequestBytes:N0} one message carries (Orleans' MaxMessageBodySize; a silo would close the connection): it was not sent; split it into calls of at most {Math.Max(1, limit / perRow):N0} rows");
    }

    private static long Utf8(string? s) => s is null ? 1 : 5 + System.Text.Encoding.UTF8.GetByteCount(s);

    /// <summary>An upper bound of a scoring request's serialized size: every string's bytes with its length and field header.</summary>
    private static long UpperBound(ScoreRequest request) =>
        256 + Utf8(request.Model) + request.Rows.Sum(r => 16L
            + r.Values.Sum(kv => 4 + Utf8(kv.Key) + Utf8(kv.Value))
            + (r.Lists?.Sum(kv => 8 + Utf8(kv.Key) + (kv.Value?.Sum(Utf8) ?? 0)) ?? 0));

    /// <summary>
    /// As <see cref="ScoreAsync(string, IReadOnlyList{ScoreRow})"/>, for a request that happened at <paramref name="time"/>
    /// (UTC; null: now by the serving silo's clock): a replay or a simulation scores its rows at their own time, and
    /// the feedback loop's windows follow it.
    /// </summary>
    public async Task<IReadOnlyList<Prediction>> ScoreAsync(string model, IReadOnlyList<ScoreRow> rows, DateTime? time)
    {
        ScoreRequest.Validate(model, rows);
        var at = time?.ToUniversalTime();
        var what = $"model '{model}': a scoring request of {rows.Count} rows";
        if (rows.Any(r => r.Lists is { Count: > 0 }))
        {
            // Lists are rare: such a request goes as the rows are, field name to value.
            var request = new ScoreRequest { Model = model, Rows = rows, Time = at };
            CheckSize(request, UpperBound(request), rows.Count, what);
            return await RetryAsync(() => Scoring().ScoreAsync(request));
        }
        // Otherwise as one batch: the field names once, the values' bytes in one buffer.
        var batch = ScoreBatch.Of(model, rows, at);
        CheckSize(batch, 256L + batch.Text.Length + 5L * batch.Lengths.Length + batch.Fields.Sum(f => 5L + 3L * f.Length), rows.Count, what);
        var answer = await RetryAsync(() => Scoring().ScoreBatchAsync(batch));
        return answer.Predictions(model, rows.Count);
    }

    /// <summary>Labels in one <see cref="ReportAsync(IReadOnlyList{FeedbackLabel})"/> call, at most.</summary>
    public const int MaxLabelsPerCall = 10_000;

    /// <summary>
    /// Reports what happened to a served prediction: it was clicked, or its click converted, at <paramref name="time"/>
    /// (UTC). The label goes to the joiner that holds the row (its id names it), which turns it into training samples
    /// for the model's main job. Labels for ids the joiner does not hold (never logged, or after their window) are
    /// counted there, not errors.
    /// </summary>
    /// <exception cref="FeedbackException">The model's deployment has no feedback loop (DeploymentSpec.Feedback).</exception>
    public Task ReportAsync(PredictionId prediction, FeedbackEvent what, DateTime time) =>
        ReportAsync([new FeedbackLabel { Prediction = prediction, Event = what, Time = time }]);

    /// <summary>
    /// As <see cref="ReportAsync(PredictionId, FeedbackEvent, DateTime)"/>, with the prediction id as
    /// <see cref="PredictionId.ToString"/> wrote it (kept in a click URL, say).
    /// </summary>
    /// <exception cref="FormatException">The text is not a prediction id.</exception>
    public Task ReportAsync(string prediction, FeedbackEvent what, DateTime time) => ReportAsync(PredictionId.Parse(prediction), what, time);

    /// <summary>Reports many labels at once (any models and joiners; one call per joiner).</summary>
    public async Task ReportAsync(IReadOnlyList<FeedbackLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count > MaxLabelsPerCall) throw new FeedbackException($"{labels.Count} labels in one call; at most {MaxLabelsPerCall}: split them");
        for (var i = 0; i < labels.Count; i++)
        {
            var id = labels[i]?.Prediction ?? throw new FeedbackException($"label {i} is empty");
            if (AdminLimits.Name(id.Model, "model") is { } problem) throw new FeedbackException($"label {i}: prediction '{id}': {problem}; pass Prediction.Id as scoring returned it");
            if (id.Joiner is < 0 or >= FeedbackSpec.MaxJoiners) throw new FeedbackException($"label {i}: '{id}' names joiner {id.Joiner}, which no deployment has");
            if (labels[i].Time.Kind == DateTimeKind.Unspecified) throw new FeedbackException($"label {i}: its time has no kind; give UTC (DateTime.UtcNow, or DateTimeKind.Utc)");
        }
        await Task.WhenAll(labels.GroupBy(l => (l.Prediction.Model, l.Prediction.Joiner))
            .Select(g => RetryAsync(async () =>
            {
                await cluster.Joiner(g.Key.Model, g.Key.Joiner).LabelAsync([.. g]);
                return true;
            }, timeOutTries: false)));
    }

    /// <summary>
    /// How long a scoring call keeps trying while the cluster changes (default 30 s). A silo that dies
    /// stays in the membership until the others declare it dead (a few missed probes); until then a call
    /// routed through it fails and is sent again. Zero: no retry.
    /// </summary>
    public TimeSpan ScoringRetryLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one try of a scoring call waits for its answer before it counts as failed and is sent again (default
    /// 5 s). A silo killed with calls in flight never answers them, and the cluster client would wait out its own
    /// response timeout (minutes, for long admin calls) before saying so.
    /// </summary>
    public TimeSpan ScoringCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The retry policy of scoring calls: a call that failed because a silo or gateway went away (its
    /// process died, the cluster is changing) is sent again with a growing pause (0.2 s doubling up to 2 s)
    /// until <see cref="ScoringRetryLimit"/> has passed; a try unanswered after <see cref="ScoringCallTimeout"/> counts
    /// as such a failure (the answer, if it comes, is dropped); request errors (<see cref="ScoringRequestException"/>)
    /// are never retried.
    /// </summary>
    private async Task<T> RetryAsync<T>(Func<Task<T>> call, bool timeOutTries = true)
    {
        // A label sent twice would count twice, so label calls wait for their answer; scoring calls are read-only to the caller.
        var timeout = timeOutTries ? ScoringCallTimeout : Timeout.InfiniteTimeSpan;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(200);
        var attempt = 0;
        while (true)
        {
            try
            {
                return await call().WaitAsync(timeout);
            }
            catch (Exception e) when (IsTransient(e) && started.Elapsed + pause < ScoringRetryLimit)
            {
                Retrying?.Invoke(new CallRetry(e, ++attempt, started.Elapsed, pause));
                await Task.Delay(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>
    /// Raised each time a call fails for a reason the retry policy absorbs (a silo or gateway going away), before the
    /// pause and the next try: for counting and explaining what the callers did not see. Handlers run on the caller's
    /// path and must be quick.
    /// </summary>
    public event Action<CallRetry>? Retrying;

    /// <summary>
    /// Failures of the cluster's plumbing (a silo or gateway gone), not of the request: what the scoring retry policy
    /// absorbs, and what a caller of admin calls can wait out the same way. An <see cref="OperationCanceledException"/>
    /// counts: this client's calls carry no cancellation token, so a cancelled call is one the cluster cancelled (a
    /// gateway silo's grain-directory lookup cut short as a silo left the directory's view, measured in the load
    /// drill); a caller that cancels calls of its own must tell its cancellation apart before asking.
    /// </summary>
    public static bool IsTransient(Exception e) =>
        e is SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException or TimeoutException or OperationCanceledException;

    /// <inheritdoc cref="ScoreAsync(string, IReadOnlyList{ScoreRow})"/>
    public Task<IReadOnlyList<Prediction>> ScoreAsync(string model, IEnumerable<IReadOnlyDictionary<string, string>> rows) =>
        ScoreAsync(model, [.. rows.Select(r => new ScoreRow { Values = r })]);

    /// <summary>
    /// Scores samples already featurized with the model's schema (<c>SampleCodec</c> bytes): for
    /// replays and experiments that read a log through the same featurizer as training.
    /// </summary>
    /// <exception cref="ScoringRequestException">The batch is larger than one message carries (<see cref="MaxRequestBytes"/>): split it.</exception>
    public Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples)
    {
        var upperBound = 256L + samples.Payload.Length + 9L * samples.Positions.Length + Utf8(samples.Source) + Utf8(samples.SourceOffset) + Utf8(samples.Origin)
            + samples.Rows.Sum(r => 64L + r.Fields.Sum(kv => 4 + Utf8(kv.Key) + Utf8(kv.Value)));
        CheckSize(samples, upperBound, Math.Max(samples.Count, samples.Rows.Length), $"model '{model}': a batch of {samples.Count} samples");
        return RetryAsync(() => Scoring().ScoreSamplesAsync(model, samples));
    }

    /// <summary>Runs every schedule of a deployment on a manual clock that is due at <paramref name="now"/> (replays drive their own time).</summary>
    public Task<IReadOnlyList<DeploymentEvent>> TickAsync(string model, DateTime now) => Deployment(model).TickAsync(now);

    /// <summary>Starts serving a model: creates its main job (or takes the existing one) and runs it in daily mode.</summary>
    /// <exception cref="ArgumentException">The spec breaks <see cref="DeploymentSpecRules"/> (the message lists every problem).</exception>
    public Task<DeploymentStatus> StartAsync(DeploymentSpec spec)
    {
        if (DeploymentSpecRules.Problems(spec) is { Count: > 0 } problems) throw new ArgumentException($"deployment '{spec.Model}': {string.Join("; ", problems)}");
        return Deployment(spec.Model).StartAsync(spec);
    }

    /// <summary>Stops a model's jobs (serving keeps the weights it has).</summary>
    public Task<DeploymentStatus> StopAsync(string model) => Deployment(model).StopAsync();

    /// <summary>Switches to daily or promotion mode (<paramref name="every"/>: promotion's checkpoint period); refused while the guard has halted publishing (<see cref="ResumeAsync"/> first).</summary>
    public Task<DeploymentStatus> SetModeAsync(string model, Mode mode, TimeSpan? every = null) => Deployment(model).SetModeAsync(mode, every);

    /// <summary>A full checkpoint now, which serving switches to; refused while the guard has halted publishing (<see cref="ResumeAsync"/> first).</summary>
    public Task<DeploymentStatus> CheckpointAsync(string model) => Deployment(model).CheckpointAsync();

    /// <summary>Puts serving back on checkpoint <paramref name="version"/> and restarts the streaming job from it.</summary>
    public Task<DeploymentStatus> RollbackAsync(string model, long version) => Deployment(model).RollbackAsync(version);

    /// <summary>
    /// After the served-quality guard rolled serving back and halted publishing: training restored from the good weights'
    /// full checkpoint (<see cref="ResumeFrom.Good"/>, the default: what the bad line learned is discarded) or kept as it
    /// is (<see cref="ResumeFrom.Line"/>, after a false alarm), then a full checkpoint of it, which serving switches to,
    /// and publishing from it again, judged against the good weights (an admin call).
    /// </summary>
    public Task<DeploymentStatus> ResumeAsync(string model, ResumeFrom from = ResumeFrom.Good) => Deployment(model).ResumeAsync(from);

    /// <summary>Creates and starts a bare training job (no deployment schedules; publish and checkpoint through its orchestrator).</summary>
    public async Task<JobStatus> StartJobAsync(string job, JobSpec spec)
    {
        var orchestrator = Job(job);
        var status = await orchestrator.GetStatusAsync();
        if (status.State is JobState.None or JobState.Stopped or JobState.Failed or JobState.Completed) await orchestrator.CreateAsync(spec);
        return await orchestrator.StartAsync();
    }

    /// <summary>Stops a job's trainers (an admin call); its weights stay in its shards and checkpoints.</summary>
    public Task<JobStatus> StopJobAsync(string job) => Job(job).StopAsync();

    /// <summary>A job's status: state, trainers (samples received and trained, steps, event time), last publish and checkpoint.</summary>
    public Task<JobStatus> GetJobStatusAsync(string job) => Job(job).GetStatusAsync();

    /// <summary>
    /// A job's grain: the calls that change it are admin calls (a training silo that takes them runs them;
    /// with TLS, signed with this client's certificate), its status any client may read.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a job's name (letters, digits, '-', '_', '.').</exception>
    public ITrainingOrchestratorGrain Job(string job) => cluster.Job(AdminLimits.CheckName(job, "job"));

    /// <summary>A model's deployment grain: the calls that change it are admin calls, its status any client may read.</summary>
    /// <exception cref="ArgumentException">The name is not a model's name.</exception>
    public IDeploymentGrain Deployment(string model) => cluster.GetGrain<IDeploymentGrain>(AdminLimits.CheckName(model, "model"));

    /// <summary>How long <see cref="GetStatusAsync"/> waits for one silo's answer before it reports that silo as not answering.</summary>
    public static readonly TimeSpan SiloStatusTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A model's status: its mode, the version serving follows, the last publish, the jobs, the
    /// recent transitions, and for every serving silo its replica (version, applied sequence, freshness).
    /// </summary>
    public async Task<ModelStatus> GetStatusAsync(string model)
    {
        var deployment = await Deployment(model).GetStatusAsync();
        var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var silos = await Task.WhenAll(hosts.Keys.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).Select(async address =>
        {
            var door = cluster.GetGrain<IServingSiloGrain>(address.ToParsableString());
            try
            {
                // A silo that died and is not yet declared dead by membership holds a call until the response timeout
                // (minutes): the status says so after a few seconds instead of waiting with it.
                var roles = await door.GetRolesAsync().WaitAsync(SiloStatusTimeout);
                if (!roles.Serving) return new ServingSiloStatus(roles.Silo, roles, null, null);
                try
                {
                    return new ServingSiloStatus(roles.Silo, roles, await door.GetReplicaAsync(model).WaitAsync(SiloStatusTimeout), null);
                }
                catch (ScoringRequestException e)
                {
                    return new ServingSiloStatus(roles.Silo, roles, null, e.Message);
                }
            }
            catch (Exception e) when (IsTransient(e))
            {
                // A silo leaving or unreachable (the transient faults, a dropped call among them: this client cancels none) is reported, not thrown.
                return new ServingSiloStatus(address.ToParsableString(), null, null, e.Message);
            }
        }));
        FeedbackStatus? feedback = null;
        if (deployment.Spec?.Feedback is { } loop)
        {
            var joiners = await Task.WhenAll(Enumerable.Range(0, loop.Joiners).Select(j => cluster.Joiner(model, j).GetStatusAsync()));
            // The live sequence fields the joiners keep, each over its shards.
            var fields = deployment.Spec.SchemaJson.Length == 0 ? []
                : Model.Sequences.SequenceField.Of(Model.Schema.FeatureLayout.From(Model.Schema.SchemaLoader.Parse(deployment.Spec.SchemaJson, $"model {model}", streaming: false)));
            var sequences = await Task.WhenAll(fields.Select(async f =>
            {
                var shards = await Task.WhenAll(Enumerable.Range(0, SequenceShards.Count).Select(i => cluster.Sequence(model, f.Name, i).GetStatusAsync()));
                return new SequenceStatus(f.Name, shards.Sum(x => (long)x.Keys), shards.Sum(x => x.Evicted), shards.Sum(x => x.MaxKeys));
            }));
            feedback = new FeedbackStatus(joiners, ServedQuality.Merge(joiners.SelectMany(j => j.Quality))) { Sequences = sequences };
        }
        return new ModelStatus(model, deployment, silos) { Feedback = feedback };
    }
}
