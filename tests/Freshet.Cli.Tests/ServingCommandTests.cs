using System.Text.Json.Nodes;
using System.Net.Sockets;
using Freshet.Silo;
using Microsoft.Extensions.Logging;

namespace Freshet.Cli.Tests;

/// <summary>The serving and admin commands against a silo, and the freshness and serving benchmarks' JSON contracts.</summary>
public class ServingCommandTests
{
    [Fact]
    public async Task Start_replay_score_status_mode_checkpoint_and_rollback_through_the_command_line()
    {
        var dir = Path.Combine(Path.GetTempPath(), "freshet-cli-serving-" + Guid.NewGuid().ToString("N"));
        var gateway = TestPorts.Free();
        var builder = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = TestPorts.Free();
            o.Silo.GatewayPort = gateway;
            o.Local.CheckpointDirectory = dir;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        using var silo = builder.Build();
        await silo.StartAsync();
        try
        {
            var g = gateway.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var schema = TestData.Schema("synthetic.json");
            // The guard's settings are checked before anything starts, each named with its fix.
            var noLoop = await CliRunner.RunAsync("start", "--model", "cli", "--schema", schema, "--guard", "--gateway-port", g);
            Assert.Equal(2, noLoop.ExitCode);
            Assert.Contains("--guard: the guard judges what the feedback loop's labels say; add --feedback fnw", noLoop.Error);
            var badFalseAlarm = await CliRunner.RunAsync("start", "--model", "cli", "--schema", schema, "--feedback", "fnw", "--guard", "--guard-false-alarm", "0.5", "--gateway-port", g);
            Assert.Equal(2, badFalseAlarm.ExitCode);
            Assert.Contains("--guard-false-alarm: 0.5; use above 0 and at most 0.2", badFalseAlarm.Error);

            var start = await CliRunner.RunAsync("start", "--model", "cli", "--schema", schema, "--publish-interval", "1s", "--shards", "2", "--feedback", "fnw", "--joiners", "2",
                "--guard", "--guard-check-every", "1s", "--gateway-port", g, "--json");
            Assert.True(start.ExitCode == 0, start.Error);
            Assert.Equal("daily", start.Json["mode"]!.GetValue<string>());
            var replay = await CliRunner.RunAsync("replay", "--job", "cli-main", "--schema", schema, "--data", "synthetic", "--samples", "6000", "--no-end", "--gateway-port", g);
            Assert.True(replay.ExitCode == 0, replay.Error);

            CliRunner.Result status = null!;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                await Task.Delay(250);
                status = await CliRunner.RunAsync("status", "--model", "cli", "--gateway-port", g, "--json");
                Assert.True(status.ExitCode == 0, status.Error);
            }
            // The replica may apply a delta a moment before the orchestrator records its publish: wait for both.
            while (((status.Json["silos"]![0]!["deltaSequence"]?.GetValue<long>() ?? 0) < 1 || status.Json["lastPublishUtc"] is null) && DateTime.UtcNow < deadline);
            var silos = status.Json["silos"]!.AsArray();
            Assert.Single(silos);
            Assert.True(silos[0]!["serving"]!.GetValue<bool>());
            Assert.True(silos[0]!["deltaSequence"]!.GetValue<long>() >= 1);
            Assert.NotNull(status.Json["lastPublishUtc"]);
            var trainer = Assert.Single(status.Json["trainers"]!.AsArray())!;
            Assert.Equal(silos[0]!["silo"]!.GetValue<string>(), trainer["silo"]!.GetValue<string>()); // one silo: the trainer is on it
            // freshet replay numbers the log's samples: the trainer's stream positions are within it, and a new job skips none.
            Assert.Equal(0, trainer["samplesSkipped"]!.GetValue<long>());
            Assert.All(trainer["positions"]!.AsObject(), kv => Assert.InRange(kv.Value!.GetValue<long>(), 0, 5_999));
            Assert.Null(status.Json["lastCheckpointError"]);

            var score = await CliRunner.RunAsync("score", "--model", "cli", "--row", "user=u1,item=i1,category=c3,device=d1,price=12.5", "--row", "user=u2", "--gateway-port", g, "--json");
            Assert.True(score.ExitCode == 0, score.Error);
            var predictions = score.Json["predictions"]!.AsArray();
            Assert.Equal(2, predictions.Count);
            Assert.InRange(predictions[0]!["ctr"]!.GetValue<double>(), 1e-6, 1 - 1e-6);
            Assert.True(predictions[0]!["deltaSequence"]!.GetValue<long>() >= 1);
            var v1 = predictions[0]!["modelVersion"]!.GetValue<long>();

            // The feedback loop: a click reported by the id score printed is joined, and status counts it.
            var id = predictions[0]!["predictionId"]!.GetValue<string>();
            var report = await CliRunner.RunAsync("report", "--prediction", id, "--event", "click", "--gateway-port", g, "--json");
            Assert.True(report.ExitCode == 0, report.Error);
            Assert.Equal(1, (int)report.Json["labels"]!);
            var notAnId = await CliRunner.RunAsync("report", "--prediction", "cli/x", "--event", "click", "--gateway-port", g);
            Assert.Equal(2, notAnId.ExitCode);
            Assert.Contains("--prediction 1: 'cli/x' is not a prediction id", notAnId.Error);
            JsonNode? feedback = null;
            var until = DateTime.UtcNow.AddSeconds(60);
            while ((feedback?["clicks"]?.GetValue<long>() ?? 0) < 1 && DateTime.UtcNow < until)
            {
                feedback = (await CliRunner.RunAsync("status", "--model", "cli", "--gateway-port", g, "--json")).Json["feedback"];
                await Task.Delay(100);
            }
            Assert.Equal(1, feedback!["clicks"]!.GetValue<long>());
            Assert.True(feedback["predictions"]!.GetValue<long>() >= 2);

            // The guard watches (its first good weights are the checkpoint serving held); with nothing rolled back there is nothing to resume.
            var guarded = (await CliRunner.RunAsync("status", "--model", "cli", "--gateway-port", g, "--json")).Json["guard"]!;
            Assert.False(guarded["halted"]!.GetValue<bool>());
            Assert.Equal(0, guarded["rollbacks"]!.GetValue<int>());
            var resume = await CliRunner.RunAsync("resume", "--model", "cli", "--gateway-port", g);
            Assert.Equal(2, resume.ExitCode);
            Assert.Contains("the guard has not rolled it back, so there is nothing to resume", resume.Error);

            var bad = await CliRunner.RunAsync("score", "--model", "cli", "--row", "user=u1,colour=red", "--gateway-port", g);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("row 0: field 'colour' is not in model", bad.Error);

            var promotion = await CliRunner.RunAsync("mode", "promotion", "--every", "2h", "--model", "cli", "--gateway-port", g, "--json");
            Assert.True(promotion.ExitCode == 0, promotion.Error);
            Assert.Equal("promotion", promotion.Json["mode"]!.GetValue<string>());
            Assert.Equal("running", promotion.Json["promotionState"]!.GetValue<string>());
            var refused = await CliRunner.RunAsync("rollback", "--to", v1.ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", "cli", "--gateway-port", g);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("promotion mode; switch to daily mode first", refused.Error);
            var daily = await CliRunner.RunAsync("mode", "daily", "--model", "cli", "--gateway-port", g, "--json");
            Assert.True(daily.ExitCode == 0, daily.Error);
            var checkpoint = await CliRunner.RunAsync("checkpoint", "--model", "cli", "--gateway-port", g, "--json");
            Assert.True(checkpoint.ExitCode == 0, checkpoint.Error);
            Assert.True(checkpoint.Json["servingVersion"]!.GetValue<long>() > v1);
            var rollback = await CliRunner.RunAsync("rollback", "--to", v1.ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", "cli", "--gateway-port", g, "--json");
            Assert.True(rollback.ExitCode == 0, rollback.Error);
            Assert.Equal(v1, rollback.Json["servingVersion"]!.GetValue<long>());
            Assert.Equal("rollback", rollback.Json["events"]!.AsArray()[^1]!["kind"]!.GetValue<string>());
            var stop = await CliRunner.RunAsync("stop", "--model", "cli", "--gateway-port", g);
            Assert.True(stop.ExitCode == 0, stop.Error);
        }
        finally
        {
            await silo.StopAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Bench_freshness_json_has_the_contract_fields()
    {
        var r = await CliRunner.RunAsync("bench", "freshness", "--interval", "1s", "--publishes", "3", "--shards", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        foreach (var field in new[] { "p50Ms", "p99Ms", "publishes", "deltaBytesPerPublish", "rowsPerPublish", "barrierPauseMsP99" })
        {
            Assert.True(json.ContainsKey(field), $"the JSON lacks {field}: {json}");
        }
        Assert.Equal(3, json["publishes"]!.GetValue<int>());
        Assert.True(json["p50Ms"]!.GetValue<double>() > 0);
        Assert.True(json["rowsPerPublish"]!.GetValue<double>() > 0);
        // Which part is which: the stream brought every delta's last chunk after its snapshot, and applying took time too.
        Assert.True(json["deliveredMsP50"]!.GetValue<double>() > 0 && json["applyMsP50"]!.GetValue<double>() >= 0, json.ToJsonString());
    }

    [Fact]
    public async Task Bench_serve_scores_every_case_through_the_sdk_without_errors_across_a_checkpoint_swap()
    {
        var r = await CliRunner.RunAsync("bench", "serve", "--seconds", "0.5", "--shards", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        var cases = json["cases"]!.AsArray();
        Assert.Equal([(1, 1), (1, 100), (1, 1000), (8, 1), (8, 100), (8, 1000)],
            cases.Select(c => (c!["clients"]!.GetValue<int>(), c["rows"]!.GetValue<int>())).ToArray());
        foreach (var c in cases)
        {
            foreach (var field in new[] { "rowsPerSecond", "p50Ms", "p99Ms", "errors", "sdkVsInProcess", "inProcessRowsPerSecond" })
            {
                Assert.True(c!.AsObject().ContainsKey(field), $"a case lacks {field}: {c}");
            }
            Assert.True(c!["errors"]!.GetValue<long>() == 0, $"scoring failed: {c}");
            Assert.True(c["rowsPerSecond"]!.GetValue<double>() > 0, c.ToJsonString());
        }
        // The swap happened inside the measured case: the serving silo answered from both checkpoints.
        var swap = json["checkpointSwap"]!;
        Assert.True(swap["toCheckpoint"]!.GetValue<long>() > swap["fromCheckpoint"]!.GetValue<long>(), swap.ToJsonString());
        Assert.Contains(swap["toCheckpoint"]!.GetValue<long>(), swap["checkpointsAnswered"]!.AsArray().Select(k => k!.GetValue<long>()));
        Assert.True(json["deltasApplied"]!.GetValue<long>() > 0, json.ToJsonString());
        // Where one client's call goes, stage by stage, at 100 and 1000 rows; and the floor of a call that does no work.
        var breakdown = json["breakdown"]!.AsArray();
        Assert.Equal([100, 1000], breakdown.Select(b => b!["rows"]!.GetValue<int>()).ToArray());
        foreach (var b in breakdown)
        {
            var stages = b!["stageMs"]!.AsObject();
            Assert.Equal(["clientChecks", "requestEncode", "requestDecode", "featurize", "forward", "predictionIds", "answerEncode", "answerDecode"], stages.Select(kv => kv.Key).ToArray());
            Assert.All(stages, kv => Assert.True(kv.Value!.GetValue<double>() > 0, $"{kv.Key}: {b}"));
            Assert.True(b["requestBytes"]!.GetValue<int>() > 0 && b["answerBytes"]!.GetValue<int>() >= 28 * b["rows"]!.GetValue<int>(), b.ToJsonString());
        }
        Assert.True(json["callFloorP50Ms"]!.GetValue<double>() > 0, json.ToJsonString());
    }

    [Fact]
    public async Task Bench_scale_reports_every_size_in_process_and_on_the_cluster_and_refuses_a_bad_size()
    {
        var bad = await CliRunner.RunAsync("bench", "scale", "--sizes", "10k,lots", "--json");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--sizes: 'lots' is not a row count", bad.Error);

        var r = await CliRunner.RunAsync("bench", "scale", "--sizes", "20k,5k", "--samples", "4000", "--shards", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var sizes = r.Json["sizes"]!.AsArray();
        Assert.Equal([5_000L, 20_000L], sizes.Select(x => x!["rows"]!.GetValue<long>()).ToArray()); // ascending, the smallest first
        foreach (var size in sizes)
        {
            var rows = size!["rows"]!.GetValue<long>();
            Assert.True(size["inProcessSamplesPerSecond"]!.GetValue<double>() > 0, size.ToJsonString());
            Assert.True(size["bytesVsRaw"]!.GetValue<double>() >= 1, $"a row cannot take less than its raw bytes: {size}");
            Assert.True(size["checkpointMb"]!.GetValue<double>() * 1e6 >= rows * size["rawBytesPerRow"]!.GetValue<double>() * 0.99, size.ToJsonString());
            foreach (var field in new[] { "writeVsCopy", "restoreVsCopy", "peakRssMb", "inProcessTrainerSamplesPerSecond", "peakVsCheckpoint" }) Assert.True(size[field]!.GetValue<double>() > 0, $"{field}: {size}");
            // Each phase's peak resident set, in the order they ran, and what was live as each ended.
            Assert.Equal(["fill", "train", "checkpoint", "copy", "restore", "cluster start", "cluster train", "cluster checkpoint", "cluster publish", "cluster restore"],
                size["phasePeakRssMb"]!.AsObject().Select(kv => kv.Key).ToArray());
            Assert.All(size["phaseEnd"]!.AsObject(), kv => Assert.True(kv.Value!["liveHeapMb"]!.GetValue<double>() > 0 && kv.Value["rssMb"]!.GetValue<double>() > 0, kv.Key));
            var cluster = size["cluster"]!;
            Assert.True(cluster["samplesPerSecond"]!.GetValue<double>() > 0 && cluster["vsInProcessTrainer"]!.GetValue<double>() > 0, cluster.ToJsonString());
            Assert.True(cluster["restoreSeconds"]!.GetValue<double>() > 0 && cluster["checkpointSeconds"]!.GetValue<double>() > 0, cluster.ToJsonString());
            // The measured publish carries the 1% of the table's rows the samples touched (and their bias rows), not the whole table.
            var changed = cluster["publishChangedRows"]!.GetValue<long>();
            Assert.InRange(changed, rows / 100, rows / 10);
        }
        Assert.Equal(1.0, sizes[0]!["inProcessVsSmallest"]!.GetValue<double>());
    }

    [Fact]
    public async Task Bad_serving_arguments_are_refused_naming_the_option()
    {
        var mode = await CliRunner.RunAsync("mode", "weekly", "--model", "m");
        Assert.Equal(2, mode.ExitCode);
        Assert.Contains("'weekly' is not a mode; use daily or promotion", mode.Error);
        var every = await CliRunner.RunAsync("mode", "daily", "--every", "2h", "--model", "m");
        Assert.Equal(2, every.ExitCode);
        Assert.Contains("--every: only promotion mode has a period", every.Error);
        var rows = await CliRunner.RunAsync("score", "--model", "m");
        Assert.Equal(2, rows.ExitCode);
        Assert.Contains("no rows", rows.Error);
        var pair = await CliRunner.RunAsync("score", "--model", "m", "--row", "user");
        Assert.Equal(2, pair.ExitCode);
        Assert.Contains("'user' is not field=value", pair.Error);
        var nobody = await CliRunner.RunAsync("status", "--model", "m", "--gateway-port", TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, nobody.ExitCode);
        Assert.Contains("cannot reach the cluster", nobody.Error);
        var azure = await CliRunner.RunAsync("silo", "--profile", "azure");
        Assert.Equal(2, azure.ExitCode);
        Assert.Contains("Freshet:Silo:BlobEndpoint: the azure profile needs it", azure.Error);
        var interval = await CliRunner.RunAsync("bench", "freshness", "--interval", "soon");
        Assert.Equal(2, interval.ExitCode);
        Assert.Contains("--interval: 'soon' is not a duration", interval.Error);
    }
}
