using Freshet.Model.Feedback;
using Freshet.Feedback;
using Freshet.Experiments;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Jobs;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Cli.Commands;

/// <summary>
/// The commands that talk to a running cluster through the client SDK: <c>start</c>, <c>stop</c>,
/// <c>mode</c>, <c>checkpoint</c>, <c>rollback</c>, <c>resume</c>, <c>status</c>, <c>score</c> and <c>report</c>.
/// </summary>
public static class AdminCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        yield return Start(cli);
        yield return Stop(cli);
        yield return ModeCommand(cli);
        yield return Checkpoint(cli);
        yield return Rollback(cli);
        yield return Resume(cli);
        yield return Status(cli);
        yield return Score(cli);
        yield return Report(cli);
    }

    private sealed class Common(bool modelRequired = true)
    {
        public readonly Option<string> Model = new("--model") { Description = "The served model", Required = modelRequired };
        public readonly Option<int> Gateway = new("--gateway-port") { Description = "Gateway port of the cluster (local profile)", DefaultValueFactory = _ => 30000 };
        public readonly Option<string> Profile = new("--profile") { Description = "How to reach the cluster: local (localhost gateway) or azurite (membership in Azure Storage)", DefaultValueFactory = _ => "local" };
        public readonly Option<bool> Json = new("--json") { Description = "Print the result as one JSON object on the last line" };

        public void AddTo(Command c)
        {
            if (modelRequired) c.Options.Add(Model);
            c.Options.Add(Gateway);
            c.Options.Add(Profile);
            c.Options.Add(Json);
        }

        public async Task<(IHost Host, FreshetClient Client)> ConnectAsync(ParseResult p, CancellationToken ct)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.AddFreshetClient(o =>
            {
                o.GatewayPort = p.GetValue(Gateway);
                o.Profile = p.GetValue(Profile)!;
            });
            var host = builder.Build();
            await host.StartAsync(ct);
            return (host, host.Services.GetRequiredService<FreshetClient>());
        }
    }

    private static Command Start(CliContext cli)
    {
        var c = new Common();
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", Required = true };
        var strategy = new Option<string>("--strategy") { Description = "Tiers the main job trains: all | part | mlp | base", DefaultValueFactory = _ => "all" };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains", DefaultValueFactory = _ => 4 };
        var trainers = new Option<int>("--trainers") { Description = "Trainer grains (sample stream partitions)", DefaultValueFactory = _ => 1 };
        var interval = new Option<string>("--publish-interval") { Description = "Delta publish interval, e.g. 1s, 60s", DefaultValueFactory = _ => "60s" };
        var dailyAt = new Option<string>("--daily-at") { Description = "Daily mode: UTC time of day of the full checkpoint (HH:mm)", DefaultValueFactory = _ => "02:00" };
        var every = new Option<string>("--every") { Description = "Promotion mode: Model A's checkpoint period", DefaultValueFactory = _ => "2h" };
        var clock = new Option<string>("--clock") { Description = "What the schedules run on: wall (the silo's clock) or event (the samples' event time, for replays)", DefaultValueFactory = _ => "wall" };
        var restore = new Option<bool>("--restore-latest") { Description = "Start the main job from the model's latest checkpoint" };
        var feedback = new Option<string?>("--feedback") { Description = "A feedback loop: serving logs every scored row and labels reported for it train the main job; labels delayed by fnw (default when on), defer or wait" };
        var clickWindow = new Option<string>("--click-window") { Description = "Feedback loop: how long an impression waits for its click", DefaultValueFactory = _ => "30m" };
        var attribution = new Option<string>("--attribution-window") { Description = "Feedback loop: how long a click waits for its conversion", DefaultValueFactory = _ => "12h" };
        var joiners = new Option<int>("--joiners") { Description = "Feedback loop: joiner grains (fixed for the deployment's life)", DefaultValueFactory = _ => 4 };
        var keep = new Option<int>("--keep-checkpoints") { Description = "Full checkpoints kept in the store, the newest (those serving or the guard still needs are kept as well)", DefaultValueFactory = _ => 5 };
        var defaults = new GuardSpec();
        var guard = new Option<bool>("--guard") { Description = "Feedback loop: the served-quality guard (shadow-scores a share of requests with the last good weights; rolls serving back and halts publishing when the new line is worse)" };
        var shadowShare = new Option<double>("--guard-shadow-share") { Description = "Guard: share of scoring calls also answered by the good weights", DefaultValueFactory = _ => defaults.ShadowShare };
        var minPairs = new Option<int>("--guard-min-pairs") { Description = "Guard: shadowed rows (click window closed) after which a line not found worse becomes good; it may roll back from a quarter of them", DefaultValueFactory = _ => defaults.MinPairs };
        var tolerance = new Option<double>("--guard-tolerance") { Description = "Guard: relative log-loss increase tolerated (0.02: 2%)", DefaultValueFactory = _ => defaults.Tolerance };
        var falseAlarm = new Option<double>("--guard-false-alarm") { Description = "Guard: the most the chance of rolling back a line that is not worse may be, per good version judged, however many checks look (a sequential test)", DefaultValueFactory = _ => defaults.FalseAlarm };
        var checkEvery = new Option<string>("--guard-check-every") { Description = "Guard: how often it judges", DefaultValueFactory = _ => Durations.Format(defaults.CheckEvery) };
        var cmd = new Command("start", "Start serving a model: its main job trains and publishes deltas every interval (daily mode)")
        {
            schema, strategy, shards, trainers, interval, dailyAt, every, clock, restore, feedback, clickWindow, attribution, joiners, keep,
            guard, shadowShare, minPairs, tolerance, falseAlarm, checkEvery,
        };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var s = SchemaLoader.Load(p.GetValue(schema)!);
            if ((JobSpecRules.Strategy(p.GetValue(strategy)!, out var st) ?? JobSpecRules.Shards(p.GetValue(shards)) ?? JobSpecRules.Trainers(p.GetValue(trainers))) is { } problem)
            {
                throw new ArgumentException("--" + problem);
            }
            if (!TimeSpan.TryParseExact(p.GetValue(dailyAt), @"hh\:mm", CultureInfo.InvariantCulture, out var at)) throw new ArgumentException($"--daily-at: '{p.GetValue(dailyAt)}' is not a time of day; write HH:mm, e.g. 02:00");
            var clockKind = p.GetValue(clock) switch
            {
                "wall" => ClockKind.Wall,
                "event" => ClockKind.EventTime,
                var other => throw new ArgumentException($"--clock: '{other}' is not a clock; use wall or event"),
            };
            var spec = new DeploymentSpec
            {
                Model = p.GetValue(c.Model)!, SchemaJson = s.Json, Strategy = st, Shards = p.GetValue(shards), Trainers = p.GetValue(trainers),
                PublishInterval = Durations.Parse(p.GetValue(interval)!, "--publish-interval"), DailyCheckpointAt = at,
                PromotionEvery = Durations.Parse(p.GetValue(every)!, "--every"), Clock = clockKind, RestoreLatest = p.GetValue(restore),
                KeepCheckpoints = p.GetValue(keep),
                Feedback = p.GetValue(feedback) is not { } method ? null : new FeedbackSpec
                {
                    Method = DelayedFeedbacks.TryParse(method, out var m) ? m : throw new ArgumentException($"--feedback: '{method}' is not a delayed-feedback method; use fnw, defer or wait"),
                    ClickWindow = Durations.Parse(p.GetValue(clickWindow)!, "--click-window"),
                    AttributionWindow = Durations.Parse(p.GetValue(attribution)!, "--attribution-window"),
                    Joiners = p.GetValue(joiners),
                    Guard = !p.GetValue(guard) ? null : new GuardSpec
                    {
                        ShadowShare = p.GetValue(shadowShare), MinPairs = p.GetValue(minPairs), Tolerance = p.GetValue(tolerance), FalseAlarm = p.GetValue(falseAlarm),
                        CheckEvery = Durations.Parse(p.GetValue(checkEvery)!, "--guard-check-every"),
                    },
                },
            };
            if (p.GetValue(guard) && spec.Feedback is null) throw new ArgumentException("--guard: the guard judges what the feedback loop's labels say; add --feedback fnw (or wait)");
            if (spec.Feedback?.Problems() is { Count: > 0 } wrong)
            {
                throw new ArgumentException(FeedbackOption(wrong[0]));
            }
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var status = await client.StartAsync(spec);
                await cli.Out.WriteLineAsync($"model {spec.Model}: started in daily mode; job {spec.JobOf(DeploymentJob.Main)} reads the sample streams of job {spec.JobOf(DeploymentJob.Main)} (freshet replay --job {spec.JobOf(DeploymentJob.Main)}); deltas every {Durations.Format(spec.PublishInterval)}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, Deployment("start", status));
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Stop(CliContext cli) => Simple(cli, "stop", "Stop a model's jobs (serving keeps the weights it has)", (client, model, _) => client.StopAsync(model));

    private static Command Checkpoint(CliContext cli) => Simple(cli, "checkpoint", "Write a full checkpoint now; serving switches to it", (client, model, _) => client.CheckpointAsync(model));

    private static Command ModeCommand(CliContext cli)
    {
        var c = new Common();
        var mode = new Argument<string>("mode") { Description = "daily | promotion" };
        var every = new Option<string?>("--every") { Description = "Promotion mode: Model A's checkpoint period, e.g. 2h" };
        var cmd = new Command("mode", "Switch a model between daily and promotion mode") { mode, every };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var m = p.GetValue(mode) switch
            {
                "daily" => Mode.Daily,
                "promotion" => Mode.Promotion,
                var other => throw new ArgumentException($"mode: '{other}' is not a mode; use daily or promotion"),
            };
            TimeSpan? e = p.GetValue(every) is { } text ? Durations.Parse(text, "--every") : null;
            if (e is not null && m == Mode.Daily) throw new ArgumentException("--every: only promotion mode has a period");
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var status = await client.SetModeAsync(p.GetValue(c.Model)!, m, e);
                await cli.Out.WriteLineAsync($"model {status.Model}: {status.Mode.ToString().ToLowerInvariant()} mode; serving checkpoint {status.ServingCheckpoint}; {status.Events.LastOrDefault()?.Detail}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, Deployment("mode", status));
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Rollback(CliContext cli)
    {
        var c = new Common();
        var to = new Option<long>("--to") { Description = "The checkpoint version to put serving back on", Required = true };
        var cmd = new Command("rollback", "Put serving back on an older checkpoint and restart the streaming job from it") { to };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var status = await client.RollbackAsync(p.GetValue(c.Model)!, p.GetValue(to));
                await cli.Out.WriteLineAsync($"model {status.Model}: serving back on checkpoint {status.ServingCheckpoint}; the main job restarted from it");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, Deployment("rollback", status));
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Resume(CliContext cli)
    {
        var c = new Common();
        var from = new Option<string>("--from") { Description = "Where training starts again: good (the good weights' full checkpoint: what the rolled-back line learned is discarded) or line (training as it is, after a false alarm)", DefaultValueFactory = _ => "good" };
        var cmd = new Command("resume", "After the served-quality guard rolled serving back and halted publishing: publish again from a new full checkpoint, judged against the good weights") { from };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var where = p.GetValue(from) switch
            {
                "good" => ResumeFrom.Good,
                "line" => ResumeFrom.Line,
                var other => throw new ArgumentException($"--from: '{other}' is not a starting point; use good or line"),
            };
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var status = await client.ResumeAsync(p.GetValue(c.Model)!, where);
                await cli.Out.WriteLineAsync($"model {status.Model}: {status.Events[^1].Detail}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, Deployment("resume", status));
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Status(CliContext cli)
    {
        var c = new Common();
        var cmd = new Command("status", "A model's mode, serving version, last publish, jobs, and each serving silo's replica");
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var s = await client.GetStatusAsync(p.GetValue(c.Model)!);
                var d = s.Deployment;
                await cli.Out.WriteLineAsync($"model {s.Model}: {(d.Spec is null ? "not started" : d.Mode.ToString().ToLowerInvariant() + " mode")}; serving checkpoint {d.ServingCheckpoint?.ToString(CultureInfo.InvariantCulture) ?? "-"}; last publish {s.LastPublishUtc?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}");
                foreach (var job in new[] { d.Main, d.B }.OfType<JobStatus>())
                {
                    await cli.Out.WriteLineAsync($"  job {job.Job}: {job.State.ToString().ToLowerInvariant()}, {job.Trainers.Sum(t => t.SamplesTrained):N0} samples trained{(job.Trainers.Sum(t => t.SamplesRejected) is > 0 and var rejected ? $" ({rejected:N0} plain JSON rows skipped: see the trainers' logs)" : "")}, last delta {job.Published?.ToString() ?? "-"}");
                    if (job.LastCheckpointError is { } failed)
                    {
                        await cli.Out.WriteLineAsync($"    last checkpoint FAILED {job.LastCheckpointErrorTime?.ToString("u", CultureInfo.InvariantCulture)}: {failed}");
                    }
                    foreach (var t in job.Trainers)
                    {
                        var positions = t.Positions.Count == 0 ? "" : "; stream positions " + string.Join(", ", t.Positions.Select(kv => $"{kv.Key} {kv.Value:N0}"));
                        var skipped = (t.SamplesSkipped > 0 ? $", {t.SamplesSkipped:N0} skipped (held by the restored checkpoint)" : "")
                            + (t.SamplesRepeated > 0 ? $", {t.SamplesRepeated:N0} dropped as repeats (a samples hub partition read again)" : "");
                        await cli.Out.WriteLineAsync($"    trainer {t.Trainer} on {t.Silo ?? "?"}: {t.SamplesTrained:N0} trained, {t.Steps:N0} steps{skipped}{positions}");
                    }
                }
                if (d.Guard is { } g)
                {
                    await cli.Out.WriteLineAsync($"  guard: {(g.Halted ? "HALTED (publishing, checkpoints and mode changes refused; freshet resume starts a new line)" : "watching")}; good weights {g.Good?.ToString() ?? "-"}; {g.Promotions} judged good, {g.Rollbacks} rollback(s)");
                    if (g.LastRollback is { } lr) await cli.Out.WriteLineAsync($"    last rollback {g.LastRollbackTime?.ToString("u", CultureInfo.InvariantCulture)}: {lr}");
                    if (g.Last is { } last) await cli.Out.WriteLineAsync($"    last check: {last}");
                }
                if (s.Feedback is { } f)
                {
                    var j = f.Joiners;
                    await cli.Out.WriteLineAsync($"  feedback: {j.Sum(x => x.Predictions):N0} rows logged, {j.Sum(x => x.Clicks):N0} clicks, {j.Sum(x => x.Conversions):N0} conversions, {j.Sum(x => x.LabelsUnmatched):N0} labels unmatched, {j.Sum(x => x.LabelsExpired):N0} late, {j.Sum(x => x.Evicted):N0} evicted; {j.Sum(x => x.CtrSamples):N0} CTR and {j.Sum(x => x.CvrSamples):N0} CVR samples made{(j.Sum(x => x.TimesRejected) is > 0 and var ahead ? $"; {ahead:N0} labels or logs refused, their time ahead of the silo's clock" : "")}");
                    foreach (var q in f.Quality.TakeLast(5))
                    {
                        await cli.Out.WriteLineAsync($"    served by {q.Weights}: CTR AUC {Show(q.Ctr.Auc)}, log-loss {Show(q.Ctr.LogLoss)} on {q.Ctr.Count:N0} impressions; CVR AUC {Show(q.Cvr.Auc)} on {q.Cvr.Count:N0} clicks");
                    }
                }
                foreach (var silo in s.Silos)
                {
                    var roles = silo.Roles is null ? "?" : string.Join(",", new[] { silo.Roles.Training ? "training" : null, silo.Roles.Serving ? "serving" : null }.OfType<string>());
                    var r = silo.Replica;
                    await cli.Out.WriteLineAsync(r is null
                        ? $"  silo {silo.Silo} ({roles}){(silo.Error is null ? "" : ": " + silo.Error)}"
                        : $"  silo {silo.Silo} ({roles}): weights {r.Weights?.ToString() ?? "none"}, {r.WeightsAge.TotalSeconds:F1} s old, {r.Applied} deltas applied ({r.Duplicates} duplicates, {r.Gaps} gaps, {r.Refused} refused)");
                }
                if (p.GetValue(c.Json))
                {
                    var result = Deployment("status", d);
                    result["lastPublishUtc"] = s.LastPublishUtc?.ToString("O", CultureInfo.InvariantCulture);
                    result["trainers"] = new JsonArray([.. new[] { d.Main, d.B }.OfType<JobStatus>().SelectMany(j => j.Trainers).Select(t => (JsonNode)new JsonObject
                    {
                        ["trainer"] = t.Trainer,
                        ["silo"] = t.Silo,
                        ["samplesTrained"] = t.SamplesTrained,
                        ["steps"] = t.Steps,
                        ["samplesSkipped"] = t.SamplesSkipped,
                        ["samplesRepeated"] = t.SamplesRepeated,
                        ["samplesTimeRejected"] = t.SamplesTimeRejected,
                        ["positions"] = new JsonObject(t.Positions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                        ["offsets"] = new JsonObject(t.Offsets.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                    })]);
                    result["lastCheckpointError"] = d.Main?.LastCheckpointError;
                    // Inputs refused for a time too far ahead of the receiving silo's clock: samples (trainers), scoring calls (replicas), labels and logged predictions (joiners).
                    result["timesRejected"] = new[] { d.Main, d.B }.OfType<JobStatus>().SelectMany(j => j.Trainers).Sum(t => t.SamplesTimeRejected)
                        + s.Replicas.Sum(r => r.TimesRejected) + (s.Feedback?.Joiners.Sum(x => x.TimesRejected) ?? 0);
                    result["silos"] = new JsonArray([.. s.Silos.Select(x => (JsonNode)new JsonObject
                    {
                        ["silo"] = x.Silo,
                        ["training"] = x.Roles?.Training,
                        ["serving"] = x.Roles?.Serving,
                        ["modelVersion"] = x.Replica?.Weights?.Checkpoint,
                        ["deltaSequence"] = x.Replica?.Weights?.Delta,
                        ["weights"] = x.Replica?.Weights?.ToString(),
                        ["weightsAgeMs"] = x.Replica is { } r ? JsonResult.Metric(r.WeightsAge.TotalMilliseconds, 1) : null,
                        ["applied"] = x.Replica?.Applied,
                        ["duplicates"] = x.Replica?.Duplicates,
                        ["gaps"] = x.Replica?.Gaps,
                        ["refused"] = x.Replica?.Refused,
                        ["timesRejected"] = x.Replica?.TimesRejected,
                        ["freshnessMsP50"] = x.Replica is { FreshnessMs.Count: > 0 } q ? JsonResult.Metric(Percentile(q.FreshnessMs, 0.5), 1) : null,
                        ["error"] = x.Error,
                    })]);
                    if (s.Feedback is { } feedback)
                    {
                        var loop = FeedbackJson.Of(feedback);
                        loop["served"] = new JsonArray([.. feedback.Quality.Select(q => (JsonNode)new JsonObject
                        {
                            ["weights"] = q.Weights.ToString(),
                            ["ctrSamples"] = q.Ctr.Count,
                            ["ctrAuc"] = JsonResult.Metric(q.Ctr.Auc),
                            ["ctrLogLoss"] = JsonResult.Metric(q.Ctr.LogLoss),
                            ["cvrSamples"] = q.Cvr.Count,
                            ["cvrAuc"] = JsonResult.Metric(q.Cvr.Auc),
                            ["cvrLogLoss"] = JsonResult.Metric(q.Cvr.LogLoss),
                        })]);
                        result["feedback"] = loop;
                    }
                    JsonResult.Write(cli.Out, result);
                }
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Score(CliContext cli)
    {
        var c = new Common();
        var rows = new Option<string?>("--rows") { Description = "File of rows to score, one JSON object per line (field: value); '-' reads standard input" };
        var row = new Option<string[]>("--row") { Description = "One row as field=value pairs separated by commas (repeatable)", AllowMultipleArgumentsPerToken = false };
        var cmd = new Command("score", "Score rows with the weights serving holds now; each prediction says which weights made it") { rows, row };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var parsed = new List<ScoreRow>();
            foreach (var text in p.GetValue(row) ?? []) parsed.Add(ParsePairs(text, parsed.Count));
            if (p.GetValue(rows) is { } file) parsed.AddRange(await ReadRowsAsync(file, ct));
            if (parsed.Count == 0) throw new ArgumentException("score: no rows; give --row field=value,... or --rows FILE (JSON lines)");
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                IReadOnlyList<Prediction> predictions;
                try
                {
                    predictions = await client.ScoreAsync(p.GetValue(c.Model)!, parsed);
                }
                catch (ScoringRequestException e)
                {
                    throw new ArgumentException(e.Message);
                }
                for (var i = 0; i < predictions.Count; i++)
                {
                    var x = predictions[i];
                    await cli.Out.WriteLineAsync($"row {i}: ctr {x.Ctr:F6} cvr {x.Cvr:F6} ctcvr {x.Ctcvr:F6}  (weights {x.Weights}, {x.WeightsAge.TotalSeconds:F1} s old; id {x.Id})");
                }
                if (p.GetValue(c.Json))
                {
                    JsonResult.Write(cli.Out, new JsonObject
                    {
                        ["command"] = "score",
                        ["model"] = p.GetValue(c.Model),
                        ["predictions"] = new JsonArray([.. predictions.Select(x => (JsonNode)new JsonObject
                        {
                            ["ctr"] = x.Ctr, ["cvr"] = x.Cvr, ["ctcvr"] = x.Ctcvr, ["modelVersion"] = x.Weights.Checkpoint, ["deltaSequence"] = x.Weights.Delta, ["weights"] = x.Weights.ToString(),
                            ["weightsAgeMs"] = JsonResult.Metric(x.WeightsAge.TotalMilliseconds, 1), ["predictionId"] = x.Id.ToString(),
                        })]),
                    });
                }
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Report(CliContext cli)
    {
        var c = new Common(modelRequired: false);
        var ids = new Option<string[]>("--prediction") { Description = "A prediction id as score printed it (repeatable)", Required = true, AllowMultipleArgumentsPerToken = false };
        var what = new Option<string>("--event") { Description = "What happened: click or conversion", Required = true };
        var at = new Option<string?>("--time") { Description = "When it happened, UTC (ISO 8601, e.g. 2026-12-05T10:00:00Z; default now)" };
        var cmd = new Command("report", "Report what happened to served predictions (a click, a conversion): the model's feedback loop turns them into training samples") { ids, what, at };
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            if (!FeedbackEvents.TryParse(p.GetValue(what), out var kind)) throw new ArgumentException($"--event: '{p.GetValue(what)}' is not an event; use click or conversion");
            var time = p.GetValue(at) is { } text
                ? DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : throw new ArgumentException($"--time: '{text}' is not a time; write ISO 8601 UTC, e.g. 2026-12-05T10:00:00Z")
                : DateTime.UtcNow;
            var labels = p.GetValue(ids)!.Select((id, i) => PredictionId.TryParse(id, out var parsed)
                ? new FeedbackLabel { Prediction = parsed, Event = kind, Time = time }
                : throw new ArgumentException($"--prediction {i + 1}: '{id}' is not a prediction id; pass one as 'freshet score' printed it ({{model}}/{{joiner}}/{{32 hex digits}})")).ToList();
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                await client.ReportAsync(labels);
                await cli.Out.WriteLineAsync($"{labels.Count} {kind.Name()} label(s) reported at {time:u}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, new JsonObject { ["command"] = "report", ["event"] = kind.Name(), ["labels"] = labels.Count, ["time"] = time.ToString("O", CultureInfo.InvariantCulture) });
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static Command Simple(CliContext cli, string name, string description, Func<FreshetClient, string, CancellationToken, Task<DeploymentStatus>> act)
    {
        var c = new Common();
        var cmd = new Command(name, description);
        c.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var (host, client) = await c.ConnectAsync(p, ct);
            using (host)
            {
                var status = await act(client, p.GetValue(c.Model)!, ct);
                var last = status.Events.LastOrDefault();
                await cli.Out.WriteLineAsync($"model {status.Model}: {name}: serving checkpoint {status.ServingCheckpoint}{(last is null ? "" : "; " + last.Detail)}");
                if (p.GetValue(c.Json)) JsonResult.Write(cli.Out, Deployment(name, status));
                await host.StopAsync(ct);
            }
        });
        return cmd;
    }

    private static JsonObject Deployment(string command, DeploymentStatus d) => new()
    {
        ["command"] = command,
        ["model"] = d.Model,
        ["mode"] = d.Spec is null ? null : d.Mode.ToString().ToLowerInvariant(),
        ["servingVersion"] = d.ServingCheckpoint,
        ["mainJob"] = d.Main?.Job,
        ["mainState"] = d.Main?.State.ToString().ToLowerInvariant(),
        ["promotionJob"] = d.B?.Job,
        ["promotionState"] = d.B?.State.ToString().ToLowerInvariant(),
        ["guard"] = d.Guard is not { } g ? null : new JsonObject
        {
            ["halted"] = g.Halted,
            ["good"] = g.Good?.ToString(),
            ["rollbacks"] = g.Rollbacks,
            ["promotions"] = g.Promotions,
            ["last"] = Verdict(g.Last),
            ["lastRollback"] = Verdict(g.LastRollback),
            ["lastRollbackTime"] = g.LastRollbackTime?.ToString("O", CultureInfo.InvariantCulture),
        },
        ["events"] = new JsonArray([.. d.Events.TakeLast(20).Select(e => (JsonNode)new JsonObject
        {
            ["time"] = e.Time.ToString("O", CultureInfo.InvariantCulture), ["kind"] = e.Kind.Name(), ["job"] = e.Job.Name(), ["servingVersion"] = e.Weights?.Checkpoint, ["sequence"] = e.Weights is { Delta: > 0 } w ? w.Delta : null, ["detail"] = e.Detail,
        })]),
    };

    /// <summary>A feedback spec's problem as the option that set it says it: <c>feedback.guard.minPairs: …</c> is <c>--guard-min-pairs: …</c>.</summary>
    private static string FeedbackOption(string problem)
    {
        var colon = problem.IndexOf(':', StringComparison.Ordinal);
        var path = problem[..colon].Replace("feedback.", "", StringComparison.Ordinal).Replace("guard.", "guard-", StringComparison.Ordinal);
        var kebab = System.Text.RegularExpressions.Regex.Replace(path, "(?<=[a-z])([A-Z])", m => "-" + m.Value.ToLowerInvariant());
        return "--" + kebab + problem[colon..];
    }

    private static JsonObject? Verdict(GuardVerdict? v) => v is null ? null : new JsonObject
    {
        ["action"] = v.Action.ToString().ToLowerInvariant(),
        ["good"] = v.Good.ToString(),
        ["from"] = v.From?.ToString(),
        ["to"] = v.To?.ToString(),
        ["pairs"] = v.Pairs,
        ["servedLogLoss"] = JsonResult.Metric(v.ServedLogLoss),
        ["goodLogLoss"] = JsonResult.Metric(v.GoodLogLoss),
        ["z"] = JsonResult.Metric(v.Z, 3),
        ["marginZ"] = JsonResult.Metric(v.MarginZ, 3),
        ["boundary"] = JsonResult.Metric(v.Boundary, 3),
    };

    private static ScoreRow ParsePairs(string text, int index)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--row {index}: '{pair}' is not field=value");
            values[pair[..eq]] = pair[(eq + 1)..];
        }
        return new ScoreRow { Values = values };
    }

    private static async Task<List<ScoreRow>> ReadRowsAsync(string file, CancellationToken ct)
    {
        var result = new List<ScoreRow>();
        using var reader = file == "-" ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(File.Exists(file) ? file : throw new ArgumentException($"--rows: file '{file}' does not exist"));
        var line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            result.Add(ScoreRowJson.Parse(text, $"--rows {file}, line {line}"));
        }
        return result;
    }

    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
    }

    private static string Show(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
