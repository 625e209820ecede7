using System.Diagnostics;
using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Tools.Cluster;

/// <summary>Runs a job over a sample stream on a cluster: create, start, publish, wait, collect the trainers' reports.</summary>
public static class ClusterTraining
{
    public sealed record Options
    {
        public int Shards { get; init; } = 4;
        public int Trainers { get; init; } = 1;
        public Strategy Strategy { get; init; } = Strategy.All;
        public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);
        public long? RestoreVersion { get; init; }
        public bool RestoreLatest { get; init; }

        /// <summary>Take one checkpoint under the barrier after this many samples were published (to measure the barrier while training runs).</summary>
        public long? CheckpointAfter { get; init; }

        public bool CheckpointAtEnd { get; init; }
    }

    public sealed record Result(
        TrainingReport Report,
        IReadOnlyDictionary<string, long> Rows,
        double Seconds,
        double GrainCallsPerStep,
        double? BarrierPauseMs,
        CheckpointResult? FinalCheckpoint,
        string Job,
        string Model,
        double DenseBusySeconds);

    public static async Task<Result> RunAsync(IClusterClient client, FeatureSchema schema, IEnumerable<Sample> samples, Options options, Action<long>? progress, CancellationToken cancellationToken)
    {
        var jobName = $"train-{schema.Name}-{Guid.NewGuid():N}"[..Math.Min(48, schema.Name.Length + 15)];
        var job = new Client.FreshetClient(client).Job(jobName);
        var spec = new JobSpec
        {
            Model = schema.Name,
            SchemaJson = schema.Json,
            Strategy = options.Strategy,
            Shards = options.Shards,
            Trainers = options.Trainers,
            Window = options.Window,
            RestoreVersion = options.RestoreVersion,
            RestoreLatest = options.RestoreLatest,
        };
        await job.CreateAsync(spec);
        await job.StartAsync();
        var clock = Stopwatch.StartNew();
        double? barrier = null;
        var publisher = new SamplePublisher(client, jobName, options.Trainers) { Progress = progress };
        await publisher.PublishAsync(samples, after: async published =>
        {
            if (barrier is null && options.CheckpointAfter is { } at && published >= at)
            {
                barrier = (await job.CheckpointAsync()).BarrierPauseMs;
            }
        }, cancellationToken: cancellationToken);
        JobStatus status;
        while (true)
        {
            status = await job.GetStatusAsync();
            if (status.State is JobState.Completed or JobState.Failed) break;
            progress?.Invoke(status.Trainers.Sum(t => t.SamplesTrained));
            await Task.Delay(20, cancellationToken);
        }
        clock.Stop();
        if (status.State == JobState.Failed)
        {
            throw new JobRequestException($"job {jobName} failed: {status.Error}");
        }
        var reports = new List<TrainingReport>();
        for (var p = 0; p < options.Trainers; p++)
        {
            reports.Add(TrainingReportJson.Deserialize(await client.Trainer(jobName, p).GetReportJsonAsync()));
        }
        var final = options.CheckpointAtEnd ? await job.CheckpointAsync() : null;
        var dense = await client.Dense(spec.Model).GetStatusAsync();
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var st in await Task.WhenAll(client.Shards(spec.Model, options.Shards).Select(s => s.GetStatusAsync())))
        {
            foreach (var (t, n) in st.Rows) rows[t] = rows.GetValueOrDefault(t) + n;
        }
        await job.StopAsync();
        var report = reports.Count == 1 ? reports[0] : Merge(reports);
        return new Result(report with { Seconds = clock.Elapsed.TotalSeconds }, rows, clock.Elapsed.TotalSeconds,
            status.Trainers.Average(t => t.GrainCallsPerStep), barrier, final, jobName, spec.Model, dense.BusySeconds);
    }

    /// <summary>
    /// Several trainers' reports as one: counts add up; each metric is the sample-weighted mean of the
    /// trainers' (an approximation: AUC over the union is not a mean of AUCs).
    /// </summary>
    private static TrainingReport Merge(List<TrainingReport> reports)
    {
        static TaskReport MergeTask(IEnumerable<TaskReport> parts)
        {
            var list = parts.ToList();
            var n = list.Sum(p => p.Samples);
            double? Mean(Func<TaskReport, double?> f) => list.Any(p => f(p) is not null) ? list.Where(p => f(p) is not null).Sum(p => f(p)!.Value * p.Samples) / Math.Max(1, list.Where(p => f(p) is not null).Sum(p => p.Samples)) : null;
            return new TaskReport(list[0].Task, n, list.Sum(p => p.Positives), Mean(p => p.Auc), Mean(p => p.LogLoss), Mean(p => p.BaselineAuc), Mean(p => p.BaselineLogLoss),
                Mean(p => p.OracleAuc), Mean(p => p.GroupAuc), list.Sum(p => p.Groups), [],
                list[0].Baselines?.Keys.ToDictionary(k => k, k => Mean(p => p.Baselines?.GetValueOrDefault(k))));
        }
        return new TrainingReport(reports.Sum(r => r.Samples), reports.Sum(r => r.Steps), reports.Max(r => r.Seconds),
            MergeTask(reports.Select(r => r.Ctr)), MergeTask(reports.Select(r => r.Cvr)),
            reports.Min(r => r.FirstEventTime), reports.Max(r => r.LastEventTime), reports.Sum(r => r.ExpiredRows),
            reports.All(r => r.Ctcvr is not null) ? MergeTask(reports.Select(r => r.Ctcvr!)) : null);
    }
}
