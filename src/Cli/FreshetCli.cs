using Freshet.Jobs;
using System.CommandLine;
using Freshet.Cli.Commands;
using Freshet.Drills;
using Freshet.Tools.Output;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Cli;

/// <summary>The <c>freshet</c> command line.</summary>
public static class FreshetCli
{
    public static async Task<int> RunAsync(string[] args, CliContext cli, CancellationToken cancellationToken = default)
    {
        var root = Build(cli);
        var parse = root.Parse(args);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = cli.Out, Error = cli.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (Exception e) when (e is SchemaException or MalformedRowException or CheckpointException or FormatException or ArgumentException or Jobs.JobRequestException)
        {
            await cli.Error.WriteLineAsync($"freshet: {e.Message}");
            return 2;
        }
        catch (Orleans.Runtime.Messaging.ConnectionFailedException e)
        {
            await cli.Error.WriteLineAsync($"freshet: cannot reach the cluster ({e.Message}); is a silo running, and is --gateway-port its gateway port?");
            return 2;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            await cli.Error.WriteLineAsync("freshet: invalid configuration:\n  " + string.Join("\n  ", e.Failures));
            return 2;
        }
    }

    public static RootCommand Build(CliContext cli)
    {
        var root = new RootCommand("Freshet: streaming training of CTR/CVR models on Orleans, with multi-frequency publishing of fresh weights.");
        root.Subcommands.Add(DemoCommand.Build(cli));
        root.Subcommands.Add(Train(cli));
        root.Subcommands.Add(SiloCommand.Build(cli));
        root.Subcommands.Add(ReplayCommand.Build(cli));
        root.Subcommands.Add(BenchCommand.Build(cli));
        root.Subcommands.Add(DrillCommand.Build(cli));
        root.Subcommands.Add(ExperimentCommand.Build(cli));
        root.Subcommands.Add(ResultsCommand.Build(cli));
        root.Subcommands.Add(SchemaCommand.Build(cli));
        foreach (var c in AdminCommands.Build(cli)) root.Subcommands.Add(c);
        return root;
    }

    private static Command Train(CliContext cli)
    {
        var schema = new Option<string>("--schema") { Description = "Feature schema JSON (see schemas/)", Required = true };
        var data = new Option<string>("--data") { Description = "Log file, folder holding the schema's source.file, or 'synthetic'", Required = true };
        var samples = new Option<long?>("--samples") { Description = "Samples to train on (default: all of a log; 300000 of the synthetic stream)" };
        var strategy = new Option<string>("--strategy") { Description = "Tiers to train: all | part | mlp | base", DefaultValueFactory = _ => "all" };
        var batch = new Option<int?>("--batch-size") { Description = "Samples per step (default: the schema's model.batchSize)" };
        var window = new Option<string>("--window") { Description = "Event-time window of the windowed metrics, e.g. 30m, 1h", DefaultValueFactory = _ => "1h" };
        var badRows = new Option<string?>("--bad-rows") { Description = "Malformed rows: skip (count and report) | fail (stop at the first)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save the trained model as a full checkpoint in this folder" };
        var restore = new Option<string?>("--restore") { Description = "Start from the latest checkpoint in this folder" };
        var restoreVersion = new Option<long?>("--restore-version") { Description = "Start from this version instead of the latest" };
        var threads = new Option<int?>("--threads") { Description = "TorchSharp threads (default: the number of cores)" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var cluster = new Option<string?>("--cluster") { Description = "Train on a cluster instead: 'local' starts a silo in this process and runs the job through grains and streams" };
        var shards = new Option<int>("--shards") { Description = "Embedding shard grains (with --cluster)", DefaultValueFactory = _ => 4 };
        var trainers = new Option<int>("--trainers") { Description = "Trainer grains (with --cluster)", DefaultValueFactory = _ => 1 };
        var evaluation = new Option<string>("--evaluation") { Description = "What the report keeps: per-sample (exact figures; memory grows with the samples) | bounded (aggregates of a fixed size, as a cluster's trainers keep)", DefaultValueFactory = _ => "per-sample" };
        var cmd = new Command("train", "Train on a log or the synthetic stream, scoring every sample before training on it")
        {
            schema, data, samples, strategy, batch, window, badRows, checkpoint, restore, restoreVersion, threads, json, cluster, shards, trainers, evaluation,
        };
        cmd.SetAction(async (p, ct) =>
        {
            if (!TrainingPlan.TryParse(p.GetValue(strategy)!, out var s))
            {
                throw new ArgumentException($"--strategy: '{p.GetValue(strategy)}' is not a strategy; use all, part+fresh, part, mlp or base");
            }
            BadRowPolicy? policy = p.GetValue(badRows) switch
            {
                null => null,
                "skip" => BadRowPolicy.Skip,
                "fail" => BadRowPolicy.Fail,
                var other => throw new ArgumentException($"--bad-rows: '{other}' is not a policy; use skip or fail"),
            };
            var detail = p.GetValue(evaluation) switch
            {
                "per-sample" => EvaluationDetail.PerSample,
                "bounded" => EvaluationDetail.Bounded,
                var other => throw new ArgumentException($"--evaluation: '{other}'; use per-sample or bounded"),
            };
            if (p.GetValue(samples) is < 1) throw new ArgumentException("--samples: must be at least 1");
            if (p.GetValue(batch) is < 1) throw new ArgumentException("--batch-size: must be at least 1");
            if (p.GetValue(threads) is < 1) throw new ArgumentException("--threads: must be at least 1");
            if ((JobSpecRules.Shards(p.GetValue(shards)) ?? JobSpecRules.Trainers(p.GetValue(trainers))) is { } layout) throw new ArgumentException("--" + layout);
            return await TrainCommand.RunAsync(new TrainArgs
            {
                Schema = p.GetValue(schema)!,
                Data = p.GetValue(data)!,
                Samples = p.GetValue(samples),
                Plan = s,
                BatchSize = p.GetValue(batch),
                Window = Durations.Parse(p.GetValue(window)!, "--window"),
                BadRows = policy,
                Checkpoint = p.GetValue(checkpoint),
                Restore = p.GetValue(restore),
                RestoreVersion = p.GetValue(restoreVersion),
                Threads = p.GetValue(threads),
                Json = p.GetValue(json),
                Cluster = p.GetValue(cluster),
                Shards = p.GetValue(shards),
                Trainers = p.GetValue(trainers),
                Evaluation = detail,
            }, cli, ct);
        });
        return cmd;
    }
}
