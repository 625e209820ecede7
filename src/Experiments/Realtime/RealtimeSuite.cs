using System.Globalization;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using TorchSharp;

namespace Freshet.Experiments;

/// <summary>The real-time suite end to end: read a log, run <see cref="RealtimeExperiment"/> on a local cluster, write its report and charts.</summary>
public static class RealtimeSuite
{
    /// <summary>Options from the command line's words (durations as 30m, 1h, 1d), checked.</summary>
    public static RealtimeExperiment.Options Options(string? strategies, string interval, string window, string? warmup, string every, string? t1, string? t2, string? t3)
    {
        TimeSpan? Optional(string? text, string what) => text is null ? null : Durations.Parse(text, what);
        var options = new RealtimeExperiment.Options
        {
            Strategies = strategies is null ? RealtimeStrategy.Ordered : RealtimeStrategy.ParseList(strategies),
            PublishInterval = Durations.Parse(interval, "--interval"),
            Window = Durations.Parse(window, "--window"),
            Warmup = Optional(warmup, "--warmup"),
            PromotionEvery = Durations.Parse(every, "--every"),
            UpdatesStart = Optional(t1, "--updates-start"),
            FullUpdateAt = Optional(t2, "--full-update-at"),
            UpdatesStop = Optional(t3, "--updates-stop"),
        };
        RealtimeExperiment.Validate(options);
        return options;
    }

    /// <summary>
    /// Runs the suite and writes its report and charts into <paramref name="output"/> (or a new folder under experiments/).
    /// <paramref name="progress"/> hears (samples done over every run, samples of every run, what is happening).
    /// </summary>
    public static async Task<(RealtimeExperiment.Result Result, FeatureSchema Schema, string Report)> RunAsync(
        string schemaPath, string data, long? samples, RealtimeExperiment.Options options, string? output, string name, string command,
        Action<string> log, Action<long, long, string>? progress, CancellationToken ct, FeatureSchema? schema = null)
    {
        var s = schema ?? SchemaLoader.Load(schemaPath);
        if (options.ConversionDelay is { } delay)
        {
            if (data != SampleReader.SyntheticData) throw new ArgumentException("--conversion-delay: only the synthetic stream's delays can be set; a log's are what it recorded");
            (s.Source.Synthetic ??= new Model.Synthetic.SyntheticOptions()).ConversionDelayMedian = Durations.Format(delay);
        }
        var reader = SampleReader.Open(s, data); // a log without the schema's columns fails here, before any training
        var limit = samples ?? (data == SampleReader.SyntheticData ? 240_000 : null);
        log($"{name}: reading {data}");
        var all = reader.Read(limit, ct).ToList();
        torch.set_num_threads(Environment.ProcessorCount);
        var folder = output ?? Path.Combine("experiments", $"{name}-{s.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(folder);
        var total = (long)all.Count * RealtimeExperiment.Runs(options).Count;
        var doneBefore = 0L;
        var current = "";
        var result = await RealtimeExperiment.RunAsync(s, all, options, folder, m => log($"{name}: {m}"), pr =>
        {
            if (pr.Strategy != current)
            {
                if (current != "") doneBefore += pr.Total;
                current = pr.Strategy;
            }
            progress?.Invoke(doneBefore + pr.Done, total, $"{pr.Strategy}: {pr.Done:N0}/{pr.Total:N0}, window AUC {(pr.CurrentAuc is { } a ? a.ToString("F3", CultureInfo.InvariantCulture) : "-")}, {pr.Publishes} publishes, serving {pr.Weights?.ToString() ?? "-"}, weights {pr.WeightsAge.TotalSeconds:F1} s old");
        }, ct);
        var charts = Charts.Realtime(result, folder);
        var report = Path.Combine(folder, "report.md");
        await File.WriteAllTextAsync(report, RealtimeReport.Markdown(result, s, data, command, charts), ct);
        var checkpoints = Path.Combine(folder, "checkpoints");
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
        return (result, s, report);
    }
}
