using Freshet.Model.Feedback;
using Freshet.Feedback;
using Freshet.Experiments;
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Freshet.Tools.Output;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Jobs;
using Freshet.Model.Schema;
using Freshet.Model.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Cli.Commands;

/// <summary>
/// The commands that talk to a running cluster through the client SDK: <c>start</c>, <c>stop</c>,
/// <c>mode</c>, <c>checkpoint</c>, <c>rollback</c>, <c>resume</c>, <c>status</c>, <c>score</c> and <c>report</c>.
/// </summary>
public static partial class AdminCommands
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
}
