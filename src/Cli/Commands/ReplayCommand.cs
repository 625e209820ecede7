using Freshet.Experiments;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Cli.Commands;

/// <summary><c>freshet replay</c>: reads a log in event-time order and publishes its samples to a running cluster's job.</summary>
public static class ReplayCommand
{
    public static Command Build(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON", Required = true };
        var data = new Option<string>("--data") { Description = "Log file, folder, or 'synthetic'", Required = true };
        var samples = new Option<long?>("--samples") { Description = "Samples to publish (default: all of a log; 300000 of the synthetic stream)" };
        var speed = new Option<double?>("--speed") { Description = "Event time per wall time (e.g. 3600: an hour of log a second); default: as fast as the trainers take it" };
        var job = new Option<string?>("--job") { Description = "Job to feed (default: the schema's name); created and started when it does not exist" };
        var gateway = new Option<int>("--gateway-port") { Description = "Gateway port of the cluster (local profile)", DefaultValueFactory = _ => 30000 };
        var shards = new Option<int>("--shards") { Description = "Shards of a job this command creates", DefaultValueFactory = _ => 4 };
        var trainers = new Option<int>("--trainers") { Description = "Trainers of a job this command creates", DefaultValueFactory = _ => 1 };
        var strategy = new Option<string>("--strategy") { Description = "Strategy of a job this command creates", DefaultValueFactory = _ => "all" };
        var noEnd = new Option<bool>("--no-end") { Description = "Do not close the job's streams at the end (more replays will follow)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job has trained everything and print its metrics" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cmd = new Command("replay", "Publish a log's samples, in event-time order, to a running cluster")
        {
            schema, data, samples, speed, job, gateway, shards, trainers, strategy, noEnd, wait, json,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var s = SchemaLoader.Load(p.GetValue(schema)!);
            var d = p.GetValue(data)!;
            var reader = SampleReader.Open(s, d);
            var limit = p.GetValue(samples) ?? (d == SampleReader.SyntheticData ? 300_000 : null);
            if (JobSpecRules.Strategy(p.GetValue(strategy)!, out var st) is { } problem) throw new ArgumentException("--" + problem);
            if (p.GetValue(speed) is <= 0) throw new ArgumentException("--speed: must be positive");
            var jobName = p.GetValue(job) ?? s.Name;

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.AddFreshetClient(o => o.GatewayPort = p.GetValue(gateway));
            using var host = builder.Build();
            await host.StartAsync(ct);
            var client = host.Services.GetRequiredService<IClusterClient>();
            var orchestrator = host.Services.GetRequiredService<FreshetClient>().Job(jobName);
            var status = await orchestrator.GetStatusAsync();
            if (status.State == JobState.None)
            {
                status = await orchestrator.CreateAsync(new JobSpec { SchemaJson = s.Json, Strategy = st, Shards = p.GetValue(shards), Trainers = p.GetValue(trainers) });
            }
            if (status.State is JobState.Created or JobState.Stopped) status = await orchestrator.StartAsync();
            var partitions = status.Spec!.Trainers;

            var progress = new ProgressBar(cli.Error, cli.Interactive, limit);
            var clock = Stopwatch.StartNew();
            // A log has a stable order: its samples are numbered from 0 on every replay, so a job restored from a checkpoint
            // skips what the checkpoint holds (docs/RELIABILITY.md, stream positions).
            var published = await new SamplePublisher(client, jobName, partitions) { Progress = n => progress.Report(n, $"{n:N0} samples published"), FirstPosition = 0 }
                .PublishAsync(reader.Read(limit, ct), p.GetValue(speed), end: !p.GetValue(noEnd), cancellationToken: ct);
            var publishSeconds = clock.Elapsed.TotalSeconds;
            TrainingReport? report = null;
            if (p.GetValue(wait))
            {
                do
                {
                    status = await orchestrator.GetStatusAsync();
                    await Task.Delay(50, ct);
                }
                while (status.State is not (JobState.Completed or JobState.Failed or JobState.Stopped) && status.Trainers.Sum(t => t.SamplesTrained) < published);
                report = TrainingReportJson.Deserialize(await client.Trainer(jobName, 0).GetReportJsonAsync());
            }
            progress.Done();
            await cli.Out.WriteLineAsync($"published {published:N0} samples of {d} to job {jobName} in {publishSeconds:F1} s; job {status.State.ToString().ToLowerInvariant()}, {status.Trainers.Sum(t => t.SamplesTrained):N0} trained");
            if (report is not null) await cli.Out.WriteLineAsync($"  trainer 0: CTR AUC {report.Ctr.Auc:F4} (baseline {report.Ctr.BaselineAuc:F4}), CVR AUC {report.Cvr.Auc:F4} (baseline {report.Cvr.BaselineAuc:F4})");
            if (p.GetValue(json))
            {
                JsonResult.Write(cli.Out, new JsonObject
                {
                    ["command"] = "replay",
                    ["job"] = jobName,
                    ["published"] = published,
                    ["badRows"] = reader.BadRows.Count,
                    ["seconds"] = Math.Round(publishSeconds, 3),
                    ["samplesPerSecond"] = Math.Round(published / Math.Max(1e-9, publishSeconds), 1),
                    ["state"] = status.State.ToString().ToLowerInvariant(),
                    ["trained"] = status.Trainers.Sum(t => t.SamplesTrained),
                    ["ctrAuc"] = JsonResult.Metric(report?.Ctr.Auc),
                    ["cvrAuc"] = JsonResult.Metric(report?.Cvr.Auc),
                });
            }
            await host.StopAsync(CancellationToken.None);
            return 0;
        });
        return cmd;
    }
}
