using ScottPlot;

namespace Freshet.Experiments;

/// <summary>The experiments' PNG charts (ScottPlot): windowed AUC over time, gains, freshness and delta sizes.</summary>
public static class Charts
{
    private const int Width = 900;
    private const int Height = 420;

    /// <summary>Writes the real-time charts into <paramref name="folder"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Realtime(RealtimeExperiment.Result result, string folder)
    {
        var files = new List<string>();

        var auc = new Plot();
        foreach (var run in result.Runs)
        {
            var points = run.Windows.Where(w => w.Auc is not null).ToList();
            if (points.Count == 0) continue;
            var line = auc.Add.Scatter(points.Select(w => w.Start.ToOADate()).ToArray(), points.Select(w => w.Auc!.Value).ToArray());
            line.LegendText = run.Strategy;
            line.MarkerSize = 3;
        }
        auc.Axes.DateTimeTicksBottom();
        auc.Title($"{result.Task.ToUpperInvariant()} AUC of what serving answered, per {Model.Schema.Durations.Format(result.Options.Window)} window");
        auc.YLabel("AUC");
        auc.ShowLegend(Alignment.LowerRight);
        files.Add(Save(auc, folder, "windowed-auc.png"));

        var baseline = result.Runs.FirstOrDefault(r => r.Strategy == RealtimeStrategy.Base.Name)?.MeanAuc;
        if (baseline is { } b)
        {
            var gains = new Plot();
            var runs = result.Runs.Where(r => r.MeanAuc is not null).ToList();
            var bars = gains.Add.Bars(runs.Select(r => r.MeanAuc!.Value - b).ToArray());
            gains.Axes.Bottom.SetTicks(Enumerable.Range(0, runs.Count).Select(i => (double)i).ToArray(), runs.Select(r => r.Strategy).ToArray());
            gains.Title("Mean windowed AUC gain over base");
            gains.YLabel("AUC - AUC(base)");
            files.Add(Save(gains, folder, "gains.png"));
        }

        var freshness = result.Runs.SelectMany(r => r.FreshnessMs).ToArray();
        if (freshness.Length > 0) files.Add(Save(Histogram(freshness, "Freshness: snapshot to applied on serving", "milliseconds"), folder, "freshness.png"));
        var bytes = result.Runs.SelectMany(r => r.DeltaBytes).Select(x => x / 1024).ToArray();
        if (bytes.Length > 0) files.Add(Save(Histogram(bytes, "Delta size per publish", "KB"), folder, "delta-size.png"));
        return files;
    }

    /// <summary>The offline suite's gains per strategy (mean over windows).</summary>
    public static IReadOnlyList<string> Offline(OfflineExperiment.Result result, string folder)
    {
        var summaries = result.Summaries.Where(s => s.Gain is not null).ToList();
        if (summaries.Count == 0) return [];
        var plot = new Plot();
        plot.Add.Bars(summaries.Select(s => s.Gain!.Value).ToArray());
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, summaries.Count).Select(i => (double)i).ToArray(), summaries.Select(s => s.Plan.Name).ToArray());
        plot.Title($"Next-period gain over base ({result.PrimaryMetric}, mean of {result.Windows.Count} window(s))");
        plot.YLabel("AUC - AUC(base)");
        return [Save(plot, folder, "offline-gains.png")];
    }

    private static Plot Histogram(double[] values, string title, string unit)
    {
        var plot = new Plot();
        var min = values.Min();
        var max = values.Max();
        var bins = Math.Clamp((int)Math.Sqrt(values.Length), 5, 40);
        var width = Math.Max((max - min) / bins, 1e-9);
        var counts = new double[bins];
        foreach (var v in values) counts[Math.Min(bins - 1, (int)((v - min) / width))]++;
        var bars = Enumerable.Range(0, bins).Select(i => new Bar { Position = min + (i + 0.5) * width, Value = counts[i], Size = width * 0.9 }).ToList();
        plot.Add.Bars(bars);
        plot.Title(title);
        plot.XLabel(unit);
        plot.YLabel("count");
        return plot;
    }

    private static string Save(Plot plot, string folder, string name)
    {
        var path = Path.Combine(folder, name);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
