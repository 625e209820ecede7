namespace Freshet.Cli.Tests;

/// <summary><c>freshet drill load</c>: real silo processes, SDK clients, a checkpoint swap and a killed serving silo.</summary>
public class DrillCommandTests
{
    [Fact]
    public Task Load_drill_loses_no_call_to_a_swap_or_a_killed_serving_silo_and_explains_every_retry() => LoadDrillAsync("local");

    /// <summary>The same on the azurite profile: membership, grain state, queue streams and checkpoints in Azurite, whose queues outlive a killed silo.</summary>
    [AzuriteFact]
    public Task Load_drill_on_the_azurite_profile_loses_no_call_and_explains_every_retry() => LoadDrillAsync("azurite");

    private static async Task LoadDrillAsync(string profile)
    {
        // Short phases: the figures for docs/RELIABILITY.md come from the full-length run (60 s phases, 8 clients).
        var r = await CliRunner.RunAsync("drill", "load", "--seconds", "8", "--clients", "4", "--shards", "2", "--profile", profile, "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal(profile, json["profile"]!.GetValue<string>());
        var phases = json["phases"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.Equal(["steady", "kill"], phases.Select(p => p["name"]!.GetValue<string>()));
        foreach (var phase in phases)
        {
            foreach (var field in new[] { "calls", "rowsPerSecond", "failed", "failures", "retried", "retries", "unexplained", "p50Ms", "p99Ms", "maxMs", "checkpointSwap", "silos", "timeline" })
            {
                Assert.True(phase.ContainsKey(field), $"phase {phase["name"]} lacks {field}");
            }
            Assert.True(phase["failed"]!.GetValue<long>() == 0, $"calls failed: {phase["failures"]}");
            Assert.True(phase["calls"]!.GetValue<int>() > 0, phase.ToJsonString());
            // The swap: every live serving silo moved to the new checkpoint, and callers were answered from both.
            var swap = phase["checkpointSwap"]!;
            Assert.True(swap["toCheckpoint"]!.GetValue<long>() > swap["fromCheckpoint"]!.GetValue<long>(), swap.ToJsonString());
            Assert.Contains(swap["toCheckpoint"]!.GetValue<long>(), phase["checkpointsAnswered"]!.AsArray().Select(c => c!.GetValue<long>()));
        }
        // No fault, no retry: a retry in the steady phase would be a failure the drill cannot explain.
        Assert.True(phases[0]["retried"]!.GetValue<int>() == 0, $"retries with no fault: {phases[0]["retries"]}");
        // Each client spreads its calls over both gateways (scoring keys cycle), so both serving silos scored.
        Assert.All(phases[0]["silos"]!.AsArray(), s => Assert.True(s!["rowsScored"]!.GetValue<long>() > 0 && s["refused"]!.GetValue<long>() == 0, s.ToJsonString()));
        // The kill: one serving silo gone, the other kept answering; every retry came after the kill.
        var kill = phases[1]["kill"]!;
        Assert.StartsWith("serving-", kill["silo"]!.GetValue<string>());
        Assert.True(kill["callsAfter"]!.GetValue<int>() > 0, kill.ToJsonString());
        Assert.Equal(0, phases[1]["unexplained"]!.GetValue<long>());
        var survivor = phases[1]["silos"]!.AsArray().Single(s => !s!["killed"]!.GetValue<bool>())!;
        Assert.True(survivor["rowsScored"]!.GetValue<long>() > 0 && survivor["refused"]!.GetValue<long>() == 0, survivor.ToJsonString());
        // Training was not touched: the trainers' counters went on through the serving silo's death (with Orleans' default
        // grain directory they started again from zero, the trainers having been activated anew).
        Assert.True(phases[0]["samplesTrainedCounter"]!.GetValue<long>() > 0 && phases[1]["samplesTrainedCounter"]!.GetValue<long>() > phases[0]["samplesTrainedCounter"]!.GetValue<long>(),
            $"the trainers' counters did not go on: {phases[0]["samplesTrainedCounter"]} after the steady phase, {phases[1]["samplesTrainedCounter"]} after the kill");
        Assert.True(json["trainingWentOn"]!.GetValue<bool>());
        Assert.True(json["ok"]!.GetValue<bool>(), r.Out);
    }

    [Fact]
    public async Task Load_drill_refuses_bad_arguments_naming_the_option()
    {
        var killAt = await CliRunner.RunAsync("drill", "load", "--seconds", "10", "--kill-at", "12");
        Assert.Equal(2, killAt.ExitCode);
        Assert.Contains("--kill-at: 12; give a second inside the phase", killAt.Error);
        var clients = await CliRunner.RunAsync("drill", "load", "--clients", "0");
        Assert.Equal(2, clients.ExitCode);
        Assert.Contains("--clients: 0; give 1 to 64", clients.Error);
        var profile = await CliRunner.RunAsync("drill", "load", "--profile", "azure");
        Assert.Equal(2, profile.ExitCode);
        Assert.Contains("--profile: 'azure' is not a profile; use one of: local, azurite", profile.Error);
    }
}

/// <summary>A test that needs Azurite: skipped, saying why, where it is not installed, unless the test command requires it (FRESHET_REQUIRE_AZURITE=1).</summary>
public sealed class AzuriteFactAttribute : FactAttribute
{
    public AzuriteFactAttribute()
    {
        if (Freshet.Tools.Cluster.AzuriteProcess.Executable() is null && Environment.GetEnvironmentVariable("FRESHET_REQUIRE_AZURITE") != "1")
        {
            Skip = "Azurite is not installed: run ./test.sh (it installs it under .tools/azurite), or set FRESHET_AZURITE to an azurite executable";
        }
    }
}
