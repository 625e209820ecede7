using Freshet.Hosting;
using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Tools.Cluster;
using Freshet.Client;
using Freshet.Experiments;
using Freshet.Model.Schema;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Drills;

/// <summary>The drill's figures as JSON: each silo's calls and scores, the reasons of the retries and failures, a timeline, the summary line.</summary>
public static partial class LoadDrill
{
    private static long Trained(ModelStatus status) => status.Deployment.Main?.Trainers.Sum(t => t.SamplesTrained) ?? 0;

    private static long Scored(ModelStatus status, SiloProcess silo) => status.Replicas.FirstOrDefault(r => silo.Is(r.Silo))?.RowsScored ?? 0;

    private static JsonObject SiloNode(SiloProcess silo, ModelStatus before, ModelStatus after, bool killed)
    {
        var b = before.Replicas.FirstOrDefault(r => silo.Is(r.Silo));
        var a = after.Replicas.FirstOrDefault(r => silo.Is(r.Silo));
        return new JsonObject
        {
            ["name"] = silo.Name,
            ["killed"] = killed,
            // A killed silo's counts are gone with it: null, not zero.
            ["rowsScored"] = a is null ? null : a.RowsScored - (b?.RowsScored ?? 0),
            ["deltasApplied"] = a is null ? null : a.Applied - (b?.Applied ?? 0),
            ["gaps"] = a is null ? null : a.Gaps - (b?.Gaps ?? 0),
            ["refused"] = a is null ? null : a.Refused - (b?.Refused ?? 0),
            ["duplicates"] = a is null ? null : a.Duplicates - (b?.Duplicates ?? 0),
            ["weights"] = a?.Weights?.ToString(),
        };
    }

    /// <summary>Failures or retries grouped by their reason (addresses and numbers left out), with when they happened.</summary>
    private static JsonArray Reasons(IEnumerable<(double At, string Error, bool Explained)> events) =>
        new([.. events.GroupBy(e => Numbers().Replace(e.Error, "#"))
            .OrderByDescending(g => g.Count())
            .Select(g => (JsonNode?)new JsonObject
            {
                ["reason"] = g.Key,
                ["count"] = g.Count(),
                ["firstAtSeconds"] = Math.Round(g.Min(e => e.At), 2),
                ["lastAtSeconds"] = Math.Round(g.Max(e => e.At), 2),
                ["afterKill"] = g.All(e => e.Explained),
                ["example"] = g.First().Error,
            })]);

    /// <summary>Per second of the phase: [second, calls started, p99 ms of those answered, retries, failures].</summary>
    private static JsonArray Timeline(IReadOnlyList<Call> calls, IReadOnlyList<Retry> retries, double seconds) =>
        new([.. Enumerable.Range(0, (int)Math.Ceiling(seconds)).Select(second =>
        {
            var these = calls.Where(c => (int)c.AtSeconds == second).ToList();
            var ms = these.Where(c => c.Error is null).Select(c => c.Ms).Order().ToArray();
            return (JsonNode?)new JsonArray(second, these.Count, JsonResult.Metric(ServeBench.Percentile(ms, 0.99), 1),
                retries.Count(r => (int)r.AtSeconds == second), these.Count(c => c.Error is not null));
        })]);

    private static string Summary(JsonObject n)
    {
        var text = $"{n["name"]}: {n["calls"]} calls, {n["rowsPerSecond"]} rows/s, p50 {n["p50Ms"]} ms, p99 {n["p99Ms"]} ms, max {n["maxMs"]} ms; "
            + $"failed {n["failed"]}, retried {n["retried"]} ({n["callsRetried"]} calls); {n["versionsAnswered"]} weights versions answered; "
            + $"swap {n["checkpointSwap"]?["fromCheckpoint"]} -> {n["checkpointSwap"]?["toCheckpoint"]} served by {n["checkpointSwap"]?["servedBySeconds"]} s after asking";
        if (n["kill"] is JsonObject k)
        {
            text += $"\n  killed {k["silo"]} at {k["atSeconds"]} s: {k["callsInFlight"]} calls in flight (slowest {k["inFlightMaxMs"]} ms), retries ended {k["retriesEndedSecondsAfter"]} s after, p99 after {k["p99MsAfter"]} ms";
        }
        foreach (var r in (n["failures"] as JsonArray ?? []).Concat(n["retries"] as JsonArray ?? []))
        {
            text += $"\n  {r!["count"]} x {r["reason"]} (at {r["firstAtSeconds"]}-{r["lastAtSeconds"]} s{((bool)r["afterKill"]! ? ", after the kill" : "")})";
        }
        return text;
    }
}
