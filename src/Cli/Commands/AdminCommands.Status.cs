using Freshet.Experiments;
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;


namespace Freshet.Cli.Commands;

/// <summary><c>status</c>: a model's mode, serving version, jobs, feedback loop and serving silos.</summary>
public static partial class AdminCommands
{
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


    private static double Percentile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
    }

    private static string Show(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
