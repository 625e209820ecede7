using Freshet.Grains.Placement;
using Freshet.Model.Serving;
using Freshet.Serving;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Freshet.Grains.Serving;

/// <summary>
/// Scores a request: from this silo's replica when the silo serves, else on a serving silo of the
/// cluster (round robin over the active ones, trying the next when one is gone).
/// </summary>
public sealed class ServingScorer(
    ServingRegistry registry, IClusterMembershipService membership, ISiloMetadataCache metadata, IGrainFactory grains, Feedback.PredictionLogger predictions, TimeProvider time,
    Model.Telemetry.FreshetInstruments instruments, WireClock clock)
{
    // One featurizer per loaded replica (its schema), gone with it: a replica the registry unloads takes its featurizer along.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Model.Serving.ServingReplica, RequestFeaturizer> _featurizers = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Model.Serving.ServingReplica, IReadOnlyList<Model.Sequences.SequenceField>> _sequences = [];
    private int _next;

    public Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request)
    {
        Validate(request);
        return registry.Roles.Serving ? ScoreCheckedAsync(request) : ForwardAsync(door => door.ScoreAsync(request));
    }

    public Task<ScoreAnswer> ScoreBatchAsync(ScoreBatch batch)
    {
        Check(batch);
        return registry.Roles.Serving ? ScoreCheckedAsync(batch) : ForwardAsync(door => door.ScoreBatchAsync(batch));
    }

    /// <summary>Scores <paramref name="batch"/> on this silo's replica (a serving silo's door for silos that forward).</summary>
    public Task<ScoreAnswer> ScoreBatchLocalAsync(ScoreBatch batch)
    {
        Check(batch);
        return ScoreCheckedAsync(batch);
    }

    /// <summary>A batch already checked (<see cref="Check"/>): each door checks once, whichever way the call came.</summary>
    private Task<ScoreAnswer> ScoreCheckedAsync(ScoreBatch batch) =>
        OnceMoreIfUnloadedAsync(() => ScoreOnceAsync(batch.Model, batch.Time,
            (featurizer, now) => featurizer.Featurize(batch.Fields, batch.Rows, batch.Lengths, batch.Text, now, ScoreRequest.MaxRows, ScoreRequest.MaxValueLength)));

    private static void Check(ScoreBatch? batch)
    {
        if ((batch is null ? "the batch is empty" : batch.Problem()) is { } problem) throw new ScoringRequestException(problem);
    }

    public Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples)
    {
        if (Freshet.Model.Schema.NameRule.Problem(model, "model") is { } problem) throw new ScoringRequestException(problem);
        if (samples.Count > ScoreRequest.MaxRows * 10) throw new ScoringRequestException($"model '{model}': {samples.Count} samples in one call; at most {ScoreRequest.MaxRows * 10}: split the batch");
        return registry.Roles.Serving ? ScoreSamplesLocalAsync(model, samples) : ForwardAsync(door => door.ScoreSamplesAsync(model, samples));
    }

    public Task<IReadOnlyList<Prediction>> ScoreSamplesLocalAsync(string model, Freshet.Samples.SampleBatch samples) =>
        OnceMoreIfUnloadedAsync(() => ScoreSamplesOnceAsync(model, samples));

    /// <summary>A call that met its replica unloaded (by <see cref="ServingRegistry"/>, between taking it and scoring) runs once more, loading it again.</summary>
    private static async Task<T> OnceMoreIfUnloadedAsync<T>(Func<Task<T>> score)
    {
        try
        {
            return await score();
        }
        catch (ObjectDisposedException)
        {
            return await score();
        }
    }

    private async Task<IReadOnlyList<Prediction>> ScoreSamplesOnceAsync(string model, Freshet.Samples.SampleBatch samples)
    {
        var replica = await registry.GetAsync(model);
        List<Model.Data.Sample> decoded;
        try
        {
            decoded = Model.Data.SampleCodec.Decode(samples.Payload);
        }
        catch (InvalidDataException e)
        {
            throw new ScoringRequestException($"model '{model}': the sample batch does not decode ({e.Message})");
        }
        for (var i = 0; i < decoded.Count; i++)
        {
            if (!clock.IsAhead(decoded[i].Time)) continue;
            replica.TimeRejected();
            clock.Rejected(model, "score");
            throw new ScoringRequestException($"model '{model}': {clock.Problem(new DateTime(Math.Clamp(decoded[i].Time, 0, DateTime.MaxValue.Ticks), DateTimeKind.Utc), $"sample {i}")}");
        }
        var now = time.GetUtcNow().UtcDateTime;
        var (results, version, weights, _, _) = ScoreTimed(replica, decoded, model, shadow: false);
        // Replays and experiments score samples that already carry their labels: ids, but nothing logged for a joiner.
        var ids = predictions.Log(model, null, decoded, results, version, now);
        return Predictions(results, ids, version, now - weights);
    }

    private async Task<T> ForwardAsync<T>(Func<IServingSiloGrain, Task<T>> call)
    {
        var silos = ServingSilos();
        if (silos.Count == 0)
        {
            throw new ScoringRequestException($"no active silo of the cluster has the serving role (this one, {registry.SiloName}, has {registry.Roles}); start a silo with --roles serving");
        }
        var start = Interlocked.Increment(ref _next);
        Exception? last = null;
        for (var i = 0; i < silos.Count; i++)
        {
            var silo = silos[(int)((uint)(start + i) % (uint)silos.Count)];
            try
            {
                return await call(grains.GetGrain<IServingSiloGrain>(silo.ToParsableString()));
            }
            catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
            {
                last = e; // that silo is going away: the next one answers
            }
        }
        // Every one is going away or unreachable for now (a dead silo still listed, a directory partition it held):
        // a failure of the cluster, not of the request, so the caller's retry policy applies.
        throw new SiloUnavailableException($"every serving silo failed to answer ({silos.Count} tried): {last?.Message}");
    }

    public Task<IReadOnlyList<Prediction>> ScoreLocalAsync(ScoreRequest request)
    {
        Validate(request);
        return ScoreCheckedAsync(request);
    }

    /// <summary>A request already validated: as <see cref="ScoreCheckedAsync(ScoreBatch)"/>.</summary>
    private Task<IReadOnlyList<Prediction>> ScoreCheckedAsync(ScoreRequest request)
    {
        var rows = request.Rows;
        return OnceMoreIfUnloadedAsync(async () =>
        {
            var answer = await ScoreOnceAsync(request.Model, request.Time,
                (featurizer, now) => featurizer.Featurize([.. rows.Select(r => (r.Values, (IReadOnlyDictionary<string, IReadOnlyList<string>>?)r.Lists))], now, ScoreRequest.MaxRows));
            return (IReadOnlyList<Prediction>)answer.Predictions(request.Model, rows.Count);
        });
    }

    private async Task<ScoreAnswer> ScoreOnceAsync(string model, DateTime? requestTime, Func<RequestFeaturizer, DateTime, List<Model.Data.Sample>> featurize)
    {
        var replica = await registry.GetAsync(model);
        if (requestTime is { } asked && clock.Problem(asked, $"model '{model}': the request") is { } ahead)
        {
            // A time ahead of this clock would be logged for the joiners and move their clocks there for good.
            replica.TimeRejected();
            clock.Rejected(model, "score");
            throw new ScoringRequestException(ahead);
        }
        var featurizer = _featurizers.GetValue(replica, r => new RequestFeaturizer(r.Schema, liveSequences: true));
        var sequences = _sequences.GetValue(replica, r => Model.Sequences.SequenceField.Of(Model.Schema.FeatureLayout.From(r.Schema)));
        var feedback = await predictions.SpecAsync(model);
        var now = requestTime ?? time.GetUtcNow().UtcDateTime;
        List<Model.Data.Sample> samples;
        try
        {
            samples = featurize(featurizer, now);
        }
        catch (ArgumentException e)
        {
            throw new ScoringRequestException($"model '{model}': {e.Message}");
        }
        // Each row's sequences as the joiners recorded them before its time: logged with the row, so training sees them too.
        if (sequences.Count > 0) await LiveSequences.FillAsync(grains, model, sequences, samples);
        // The guard's share of calls is also scored with the last good weights: both answers go to the joiners.
        var shadow = feedback?.Guard is { } guard && Random.Shared.NextDouble() < guard.ShadowShare;
        var (results, version, weights, shadowCtr, shadowWeights) = ScoreTimed(replica, samples, model, shadow);
        var ids = predictions.Log(model, feedback, samples, results, version, now, shadowCtr, shadowWeights);
        var scores = new float[3 * results.Length];
        for (var i = 0; i < results.Length; i++) (scores[3 * i], scores[3 * i + 1], scores[3 * i + 2]) = (results[i].Ctr, results[i].Cvr, results[i].Ctcvr);
        return ScoreAnswer.Of(scores, ids, version, time.GetUtcNow().UtcDateTime - weights, feedback?.Joiners ?? 1);
    }

    private static Prediction[] Predictions(Model.Serving.ScoreResult[] results, Freshet.Feedback.PredictionId[] ids, Model.Serving.WeightsVersion version, TimeSpan age)
    {
        var answers = new Prediction[results.Length];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = new Prediction { Ctr = results[i].Ctr, Cvr = results[i].Cvr, Ctcvr = results[i].Ctcvr, Weights = version, WeightsAge = age, Id = ids[i] };
        }
        return answers;
    }

    private (Model.Serving.ScoreResult[] Results, Model.Serving.WeightsVersion Weights, DateTime WeightsUtc, float[]? ShadowCtr, Model.Serving.WeightsVersion? ShadowWeights) ScoreTimed(
        Model.Serving.ServingReplica replica, IReadOnlyList<Model.Data.Sample> rows, string model, bool shadow)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = replica.Score(rows, shadow);
        var tag = new KeyValuePair<string, object?>("model", model);
        instruments.ScoreDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, tag);
        instruments.RowsScored.Add(rows.Count, tag);
        return result;
    }

    /// <summary>The active silos with the serving role, in address order.</summary>
    public IReadOnlyList<SiloAddress> ServingSilos() =>
        [.. membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && RoleMetadata.Of(metadata.GetSiloMetadata(m.SiloAddress)).Serving)
            .Select(m => m.SiloAddress)
            .OrderBy(s => s.ToParsableString(), StringComparer.Ordinal)];

    private static void Validate(ScoreRequest request) => ScoreRequest.Validate(request.Model, request.Rows);
}
