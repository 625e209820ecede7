using Freshet.Model.Metrics;

namespace Freshet.Cli.Tests;

/// <summary>
/// <c>freshet drill soak</c>, short: a silo process trains a high-cardinality stream while publishing every second and
/// serving SDK calls; what it holds stays within its bounds (counts, not timings), and nothing produced is lost. The
/// memory slope is judged on the long run (docs/RELIABILITY.md), not here.
/// </summary>
public class SoakDrillTests
{
    [Fact]
    public async Task A_short_soak_with_its_feedback_loop_loses_nothing_and_holds_what_it_keeps_within_its_bounds()
    {
        // The soak schema with live sequences and small caps, so the user table and its rates admit, expire and evict
        // within a short run, and so do the sequences the loop's labels keep.
        var schema = Path.Combine(Path.GetTempPath(), $"soak-{Guid.NewGuid():N}.json");
        var text = await File.ReadAllTextAsync(TestData.Schema("soak-sequence.json"));
        await File.WriteAllTextAsync(schema, text.Replace("\"maxRows\": 50000", "\"maxRows\": 2000").Replace("\"maxRows\": 20000", "\"maxRows\": 800")
            .Replace("\"expireAfter\": \"6h\"", "\"expireAfter\": \"30m\""));
        try
        {
            var r = await CliRunner.RunAsync("drill", "soak", "--schema", schema, "--samples", "200000", "--checkpoint-every", "80000", "--shards", "2", "--feedback", "--json");
            Assert.True(r.ExitCode == 0, r.Out + r.Error);
            var json = r.Json;
            Assert.Equal(0, json["lost"]!.GetValue<long>());
            Assert.Equal(0, json["samplesShed"]!.GetValue<long>());
            Assert.Equal(0, json["scoringFailures"]!.GetValue<long>());
            Assert.True(json["scoringCalls"]!.GetValue<long>() > 0, r.Out);
            Assert.True(json["checkpoints"]!.GetValue<int>() >= 1, r.Out);
            Assert.Equal(200_000, json["produced"]!.GetValue<long>());
            Assert.False(json["slopeJudged"]!.GetValue<bool>());
            Assert.Empty(json["tablesOverCap"]!.AsArray());
            // The user table and its rates stay at their cap and evict; the trainer's queues within their capacity.
            var user = json["tables"]!["user"]!;
            Assert.True(user["rows"]!.GetValue<long>() <= 2000 && user["evicted"]!.GetValue<long>() > 0, user.ToJsonString());
            var rate = json["tables"]!["user.rate.ctr"]!;
            Assert.True(rate["rows"]!.GetValue<long>() <= 2000 && rate["evicted"]!.GetValue<long>() > 0, rate.ToJsonString());
            Assert.True(json["samplesQueued"]!.GetValue<long>() <= json["queueCapacity"]!.GetValue<long>());
            // The evaluation holds recent scores and open groups per task (CTR, CVR, pCTCVR), never every sample.
            var bound = 3L * (TaskEvaluation.RecentKept + RunningGroupAuc.DefaultMaxHeld);
            Assert.True(json["evaluationHeld"]!.GetValue<long>() <= bound, r.Out);
            // The counting baselines keep as many users as the table: at most the cap for each task's user baseline.
            Assert.True(json["baselineEvicted"]!.GetValue<long>() > 0, r.Out);
            // Memory was read through the run against the samples trained.
            var readings = json["rssMb"]!.AsArray().Count;
            Assert.True(readings >= 3 && readings == json["gcHeapMb"]!.AsArray().Count && readings == json["gcCommittedMb"]!.AsArray().Count && readings == json["readingSamples"]!.AsArray().Count, r.Out);
            // The collector's committed memory is part of the resident memory; the rest is native.
            Assert.All(json["rssMb"]!.AsArray().Zip(json["gcCommittedMb"]!.AsArray()), p => Assert.True(p.First!.GetValue<double>() > p.Second!.GetValue<double>(), r.Out));
            Assert.True(json["nativeTrimmedMb"]!.GetValue<double>() >= 0 && json["heapCompactions"]!.GetValue<long>() >= 0, r.Out);
            // The loop: scored rows' labels reported and joined into samples; the sequences its joiners keep at their caps,
            // evicting the least recently seen users (800 a field: 100 a shard).
            var loop = json["feedback"]!;
            Assert.True(loop["labelsReported"]!.GetValue<long>() > 0 && loop["clicks"]!.GetValue<long>() > 0 && loop["samples"]!.GetValue<long>() > 0, loop.ToJsonString());
            Assert.True(loop["pending"]!.GetValue<long>() <= loop["pendingCap"]!.GetValue<long>(), loop.ToJsonString());
            var recent = loop["sequences"]!["recent"]!;
            Assert.Equal(800, recent["maxKeys"]!.GetValue<long>());
            Assert.True(recent["keys"]!.GetValue<long>() <= 800 && recent["evicted"]!.GetValue<long>() > 0, recent.ToJsonString());
            Assert.True(loop["sequences"]!["bought"]!["keys"]!.GetValue<long>() is > 0 and <= 800, loop.ToJsonString());
            Assert.True(json["ok"]!.GetValue<bool>(), r.Out);
        }
        finally
        {
            File.Delete(schema);
        }
    }

    [Fact]
    public async Task Soak_refuses_a_schema_that_is_not_an_endless_stream()
    {
        var r = await CliRunner.RunAsync("drill", "soak", "--schema", TestData.Schema("talkingdata.json"), "--samples", "100000");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("synthetic", r.Error);
    }
}
