using System.Collections.Concurrent;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Serving;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Feedback;

/// <summary>
/// A serving silo's side of the feedback loop: gives every scored row its <see cref="PredictionId"/> and, when the
/// model's deployment has a feedback loop, sends the row (features and answers) to its joiner. Sending happens off
/// the scoring path; rows that cannot be sent (a joiner unreachable, or more than <see cref="MaxInFlightRows"/>
/// waiting) are counted and logged, never failing the score.
/// </summary>
public sealed partial class PredictionLogger(IGrainFactory grains, TimeProvider time, FreshetInstruments instruments, ILogger<PredictionLogger> logger)
{
    /// <summary>Rows sent to joiners and not yet acknowledged, at most.</summary>
    public const int MaxInFlightRows = 200_000;

    /// <summary>How long a model's feedback settings are taken as known before they are asked again.</summary>
    public static readonly TimeSpan SettingsRefresh = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (FeedbackSpec? Spec, long Until)> _specs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _refreshing = new(StringComparer.Ordinal);
    private long _inFlight;
    private long _dropped;

    /// <summary>
    /// The model's feedback settings (null: no loop), asked of its first joiner and kept for <see cref="SettingsRefresh"/>.
    /// Only a model's first score waits for the answer; later ones take what is known and a refresh runs beside them, so a
    /// joiner's silo going away never holds up scoring.
    /// </summary>
    public async ValueTask<FeedbackSpec?> SpecAsync(string model)
    {
        if (!_specs.TryGetValue(model, out var known)) return await RefreshAsync(model, null);
        if (time.GetTimestamp() >= known.Until && !_refreshing.ContainsKey(model))
        {
            _refreshing[model] = Task.Run(async () =>
            {
                await RefreshAsync(model, known.Spec);
                _refreshing.TryRemove(model, out _);
            });
        }
        return known.Spec;
    }

    private async Task<FeedbackSpec?> RefreshAsync(string model, FeedbackSpec? known)
    {
        FeedbackSpec? spec;
        try
        {
            spec = (await grains.Joiner(model, 0).GetConfigAsync())?.Spec;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Scoring goes on with what was known (no logging, the first time) until the joiner answers again.
            LogSettingsUnavailable(logger, e, model);
            spec = known;
        }
        _specs[model] = (spec, time.GetTimestamp() + (long)(SettingsRefresh.TotalSeconds * time.TimestampFrequency));
        return spec;
    }

    /// <summary>Ids for <paramref name="rows"/> scored with <paramref name="weights"/>; with a loop, the rows go to their joiners.</summary>
    public PredictionId[] Log(string model, FeedbackSpec? spec, IReadOnlyList<Sample> rows, ScoreResult[] results, WeightsVersion weights, DateTime scored,
        float[]? shadowCtr = null, WeightsVersion? shadow = null)
    {
        var ids = new PredictionId[rows.Count];
        var joiners = spec?.Joiners ?? 1;
        var values = Freshet.Serving.ScoreAnswer.NewIds(ids.Length);
        for (var i = 0; i < ids.Length; i++) ids[i] = new PredictionId(model, PredictionId.JoinerOf(values[i], joiners), values[i]);
        if (spec is null) return ids;
        foreach (var group in Enumerable.Range(0, ids.Length).GroupBy(i => ids[i].Joiner))
        {
            var members = group.ToArray();
            var log = new PredictionLog
            {
                Ids = [.. members.Select(i => ids[i].Value)],
                Samples = SampleCodec.Encode([.. members.Select(i => rows[i])]),
                Ctr = [.. members.Select(i => results[i].Ctr)],
                Cvr = [.. members.Select(i => results[i].Cvr)],
                Weights = weights,
                Time = scored,
                ShadowCtr = shadowCtr is null ? [] : [.. members.Select(i => shadowCtr[i])],
                Shadow = shadowCtr is null ? null : shadow,
            };
            if (Interlocked.Add(ref _inFlight, members.Length) > MaxInFlightRows)
            {
                Interlocked.Add(ref _inFlight, -members.Length);
                Dropped(model, members.Length, "too many rows in flight to the joiners");
                continue;
            }
            // Off the scoring call's turn: the send must not run on (or outlive) the scoring grain's activation.
            var joiner = group.Key;
            _ = Task.Run(() => SendAsync(model, joiner, log));
        }
        return ids;
    }

    private async Task SendAsync(string model, int joiner, PredictionLog log)
    {
        try
        {
            await grains.Joiner(model, joiner).LogAsync(log);
            instruments.PredictionsLogged.Add(log.Ids.Length, FreshetTags.Of(model).With("outcome", "logged"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Dropped(model, log.Ids.Length, $"joiner {model}/{joiner} failed: {e.Message}");
        }
        finally
        {
            Interlocked.Add(ref _inFlight, -log.Ids.Length);
        }
    }

    private void Dropped(string model, int rows, string why)
    {
        var total = Interlocked.Add(ref _dropped, rows);
        instruments.PredictionsLogged.Add(rows, FreshetTags.Of(model).With("outcome", "dropped"));
        // The first drops in full, then one line per ten thousand rows: a joiner that is down must not flood the log.
        if (total - rows < 1000 || total / 10_000 != (total - rows) / 10_000) LogDropped(logger, rows, model, total, why);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feedback settings of model {Model} could not be read; scored rows are not logged for labels until they can")]
    private static partial void LogSettingsUnavailable(ILogger logger, Exception error, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rows} scored rows of model {Model} were not logged for labels ({Total} so far): {Why}; labels reported for them will be counted as unmatched")]
    private static partial void LogDropped(ILogger logger, int rows, string model, long total, string why);
}
