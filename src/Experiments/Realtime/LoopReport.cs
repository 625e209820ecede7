using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Model.Serving;
using Freshet.Model.Schema;
using Freshet.Silo;
using ScottPlot;

namespace Freshet.Experiments;

/// <summary>
/// The demo's feedback loop (<see cref="LoopSimulation"/>) on a local silo of its own: a poisoned hour that the
/// served-quality guard should roll back, then publishing resumed. Its chart (served CTR AUC per weights version,
/// the poisoned hour and the rollbacks marked), its report section and its JSON.
/// </summary>
public static class LoopReport
{
    /// <summary>What the demo runs: four and a half hours of traffic, a producer flipping labels from the first hour to the second, publishing resumed 90 minutes after a rollback.</summary>
    public static LoopSimulation.Options DemoOptions(TimeSpan duration) => new()
    {
        Model = "demo-loop", Duration = duration, PoisonAt = TimeSpan.FromHours(1), PoisonFor = TimeSpan.FromHours(1), ResumeAfter = TimeSpan.FromMinutes(90),
    };

    /// <summary>Runs the loop on a new local silo (checkpoints under <paramref name="folder"/>, removed after) and draws its chart there.</summary>
    public static async Task<(LoopSimulation.Result Result, string Chart)> RunAsync(FeatureSchema schema, LoopSimulation.Options options, string folder,
        Action<string> log, CancellationToken ct)
    {
        var checkpoints = Path.Combine(folder, "loop-checkpoints");
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        LoopSimulation.Result result;
        log("loop: starting a local silo (training and serving roles) for the feedback loop");
        await using (var cluster = await LocalCluster.StartAsync(checkpoints, ct))
        {
            result = await LoopSimulation.RunAsync(new FreshetClient(cluster.Client), cluster.Client, schema, options, null, m => log("loop: " + m), ct);
        }
        Directory.Delete(checkpoints, recursive: true);
        return (result, Chart(result, folder));
    }

    /// <summary>Versions with fewer impressions than this are left off the chart (their AUC is noise), as are versions not settled (their unclicked rows not scored yet).</summary>
    public const int MinImpressions = 200;

    public static string Chart(LoopSimulation.Result r, string folder)
    {
        var plot = new Plot();
        double Hours(DateTime t) => (t - r.Start).TotalHours;
        var points = r.Served.Where(s => s.Quality.Settled && s.Quality.Ctr.Count >= MinImpressions && s.Quality.Ctr.Auc is not null).ToList();
        // A rolled-back line: every version after the good one until the resume's checkpoint (some were published before the halt).
        var resumes = r.Events.Where(e => e.Kind == DeploymentEventKind.Resume).ToList();
        WeightsVersion? ResumedAt(LoopSimulation.Rollback b) => resumes.FirstOrDefault(e => e.Time >= b.Time)?.Weights;
        DateTime? ResumedTime(LoopSimulation.Rollback b) => resumes.FirstOrDefault(e => e.Time >= b.Time)?.Time;
        var rolledBack = points.Where(p => r.Rollbacks.Any(b => p.Quality.Weights > b.Verdict.Good && (ResumedAt(b) is not { } upper || p.Quality.Weights < upper))).ToList();
        var kept = points.Except(rolledBack).ToList();
        if (r.FaultStart is { } fs && r.FaultEnd is { } fe)
        {
            var span = plot.Add.HorizontalSpan(Hours(fs), Hours(fe));
            span.LegendText = "poisoned producer";
            span.FillStyle.Color = Colors.Orange.WithAlpha(0.2);
        }
        if (kept.Count > 0)
        {
            var line = plot.Add.Scatter(kept.Select(p => Hours(p.FirstServed)).ToArray(), kept.Select(p => p.Quality.Ctr.Auc!.Value).ToArray());
            line.LegendText = "served versions";
            line.LineWidth = 0;
            line.MarkerSize = 6;
        }
        if (rolledBack.Count > 0)
        {
            var bad = plot.Add.Scatter(rolledBack.Select(p => Hours(p.FirstServed)).ToArray(), rolledBack.Select(p => p.Quality.Ctr.Auc!.Value).ToArray());
            bad.LegendText = "versions of a rolled-back line";
            bad.LineWidth = 0;
            bad.MarkerSize = 8;
            bad.Color = Colors.Red;
        }
        foreach (var b in r.Rollbacks)
        {
            // Serving answered with the good weights from the rollback to the resume.
            if (r.Served.FirstOrDefault(s => s.Quality.Weights == b.Verdict.Good).Quality?.Ctr.Auc is { } goodAuc)
            {
                var held = plot.Add.Line(Hours(b.Time), goodAuc, Hours(ResumedTime(b) ?? r.End), goodAuc);
                held.LineWidth = 3;
                held.Color = Colors.Green;
                held.LegendText = $"good weights {b.Verdict.Good} served again";
            }
            var v = plot.Add.VerticalLine(Hours(b.Time));
            v.Color = b.Explained ? Colors.Red : Colors.Purple;
            v.LinePattern = LinePattern.Dashed;
            v.LegendText = b.Explained ? "guard rollback" : "guard rollback (no fault)";
        }
        plot.Title("CTR AUC of what serving answered, per weights version (at its first serving)");
        plot.XLabel("hours into the loop");
        plot.YLabel("AUC");
        plot.ShowLegend(Alignment.LowerRight);
        var path = Path.Combine(folder, "guard.png");
        plot.SavePng(path, 900, 420);
        return path;
    }

    /// <summary>The loop in a few lines for the console.</summary>
    public static string Summary(LoopSimulation.Result r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"loop: {r.Scored:N0} rows scored through the SDK over {(r.End - r.Start).TotalHours:F1} h, {r.Clicks:N0} clicks and {r.Conversions:N0} conversions reported, {r.Publishes} publishes, {r.GoodVerdicts} judged good");
        foreach (var b in r.Rollbacks)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"loop: guard rollback at +{(b.Time - r.Start).TotalMinutes:F0} min{(b.Explained ? "" : " (no fault explains it)")}: {b.Verdict}");
        }
        sb.Append(CultureInfo.InvariantCulture, $"loop: rollbacks {r.Rollbacks.Count}, false {r.FalseRollbacks}, detected {(r.DetectedAfterMinutes is { } d ? $"{d:F0} min after the fault began" : "never")}");
        return sb.ToString();
    }

    /// <summary>The report's section on the loop.</summary>
    public static string Markdown(LoopSimulation.Result r, string chart, LoopSimulation.Options o)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("## The feedback loop and the served-quality guard");
        sb.AppendLine();
        sb.AppendLine(inv, $"A deployment trained on the stream's first {o.WarmupRows:N0} rows, then {(r.End - r.Start).TotalHours:F1} hours of its traffic on a simulated clock: " +
            $"every impression scored through the SDK ({r.Scored:N0}), its click reported up to {o.ClickDelay.TotalMinutes:F0} minutes later and its conversion at its time " +
            $"({r.Clicks:N0} clicks, {r.Conversions:N0} conversions), the joiners making the training samples (FNW, click window {Durations.Format(o.ClickWindow)}, " +
            $"attribution window {Durations.Format(o.AttributionWindow)}), a publish every {Durations.Format(o.PublishInterval)}.");
        sb.AppendLine();
        if (r.FaultStart is { } fs && r.FaultEnd is { } fe)
        {
            sb.AppendLine(inv, $"From +{(fs - r.Start).TotalMinutes:F0} to +{(fe - r.Start).TotalMinutes:F0} minutes a bad producer sent every impression {o.PoisonCopies} more times with its click label flipped ({r.PoisonSamples:N0} samples).");
            sb.AppendLine();
        }
        sb.AppendLine(inv, $"The guard shadow-scored {o.Guard.ShadowShare:P0} of requests with the last good weights and judged every {Durations.Format(o.Guard.CheckEvery)} " +
            $"(a sequential test, a mixture SPRT, on the per-row log-loss of the rows whose click window had closed, the version being served included: rolled back when worse by more than {o.Guard.Tolerance:P0}, " +
            $"at most a {o.Guard.FalseAlarm:0.####} chance of a false rollback per good version however many checks look; good after {o.Guard.MinPairs:N0} pairs): " +
            $"{r.GoodVerdicts} lines judged good, **{r.Rollbacks.Count} rollback(s)**, {r.FalseRollbacks} without a fault, " +
            $"{(r.DetectedAfterMinutes is { } d ? $"the first {d:F0} minutes after the fault began" : "none for a fault")}; {r.Resumes} resume(s).");
        sb.AppendLine();
        if (r.Rollbacks.Count > 0)
        {
            sb.AppendLine("| at | judged | pairs | log-loss served | log-loss good | z | z beyond the tolerance | z needed | fault |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var b in r.Rollbacks)
            {
                var v = b.Verdict;
                sb.AppendLine(inv, $"| +{(b.Time - r.Start).TotalMinutes:F0} min | {v.From}..{v.To} against {v.Good} | {v.Pairs:N0} | {v.ServedLogLoss:F4} | {v.GoodLogLoss:F4} | {v.Z:F2} | {v.MarginZ:F2} | {v.Boundary:F2} | {(b.Explained ? "yes" : "no")} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine(inv, $"![served AUC per version]({Path.GetFileName(chart)})");
        sb.AppendLine();
        return sb.ToString();
    }

    public static JsonObject Json(LoopSimulation.Result r) => new()
    {
        ["rollbacks"] = r.Rollbacks.Count,
        ["falseRollbacks"] = r.FalseRollbacks,
        ["detectedAfterMinutes"] = JsonResult.Metric(r.DetectedAfterMinutes, 1),
        ["faultStartMinutes"] = JsonResult.Metric(r.FaultStart is { } fs ? (fs - r.Start).TotalMinutes : null, 1),
        ["faultEndMinutes"] = JsonResult.Metric(r.FaultEnd is { } fe ? (fe - r.Start).TotalMinutes : null, 1),
        ["scored"] = r.Scored,
        ["shadowed"] = r.Shadowed,
        ["clicks"] = r.Clicks,
        ["conversions"] = r.Conversions,
        ["poisonSamples"] = r.PoisonSamples,
        ["publishes"] = r.Publishes,
        ["goodVerdicts"] = r.GoodVerdicts,
        ["resumes"] = r.Resumes,
        ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 1),
        ["events"] = new JsonArray([.. r.Rollbacks.Select(b => (JsonNode)new JsonObject
        {
            ["minutes"] = Math.Round((b.Time - r.Start).TotalMinutes, 1),
            ["from"] = b.Verdict.From?.ToString(),
            ["to"] = b.Verdict.To?.ToString(),
            ["good"] = b.Verdict.Good.ToString(),
            ["pairs"] = b.Verdict.Pairs,
            ["servedLogLoss"] = JsonResult.Metric(b.Verdict.ServedLogLoss),
            ["goodLogLoss"] = JsonResult.Metric(b.Verdict.GoodLogLoss),
            ["z"] = JsonResult.Metric(b.Verdict.Z, 3),
            ["marginZ"] = JsonResult.Metric(b.Verdict.MarginZ, 3),
            ["boundary"] = JsonResult.Metric(b.Verdict.Boundary, 3),
            ["explained"] = b.Explained,
        })]),
        ["served"] = new JsonArray([.. r.Served.Select(s => (JsonNode)new JsonObject
        {
            ["weights"] = s.Quality.Weights.ToString(),
            ["firstServedMinutes"] = Math.Round((s.FirstServed - r.Start).TotalMinutes, 1),
            ["impressions"] = s.Quality.Ctr.Count,
            ["settled"] = s.Quality.Settled,
            ["ctrAuc"] = JsonResult.Metric(s.Quality.Ctr.Auc),
            ["ctrLogLoss"] = JsonResult.Metric(s.Quality.Ctr.LogLoss),
        })]),
    };
}
