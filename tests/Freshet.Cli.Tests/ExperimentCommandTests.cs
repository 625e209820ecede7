namespace Freshet.Cli.Tests;

/// <summary>The experiments on the real logs, the demo, and the errors they give before any training.</summary>
public class ExperimentCommandTests
{
    private static string TempFolder() => Path.Combine(Path.GetTempPath(), "freshet-exp-" + Guid.NewGuid().ToString("N"));

    [RealDataFact]
    public async Task Offline_on_mind_reports_each_strategy_with_gains_over_base()
    {
        var dir = TempFolder();
        try
        {
            var r = await CliRunner.RunAsync("experiment", "--suite", "offline", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--max-windows", "2", "--out", dir, "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            var strategies = r.Json["strategies"]!.AsObject();
            Assert.Equal(["base", "mlp", "part", "part+fresh", "all"], strategies.Select(kv => kv.Key));
            foreach (var (name, s) in strategies)
            {
                Assert.NotNull(s!["ctrAuc"]);
                Assert.NotNull(s["groupAuc"]);
                Assert.NotNull(s["gainVsBase"]);
                Assert.InRange((double)s["ctrAuc"]!, 0.55, 0.9);
            }
            Assert.Equal(0.0, (double)strategies["base"]!["gainVsBase"]!);
            Assert.Equal(2, r.Json["windows"]!.AsArray().Count);
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [RealDataFact]
    public async Task Realtime_on_mind_scores_through_serving_and_reports_windows_per_strategy()
    {
        var dir = TempFolder();
        try
        {
            var r = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--strategies", "base,part+fresh", "--interval", "2h", "--out", dir, "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            var strategies = r.Json["strategies"]!.AsObject();
            foreach (var name in new[] { "base", "part+fresh" })
            {
                var s = strategies[name]!;
                Assert.NotNull(s["meanAuc"]);
                var windows = s["windows"]!.AsArray();
                Assert.True(windows.Count > 24);
                Assert.NotNull(windows[0]!["time"]);
                Assert.NotNull(windows[0]!["auc"]);
            }
            Assert.Equal(0, (int)strategies["base"]!["publishes"]!);
            Assert.True((int)strategies["part+fresh"]!["publishes"]! > 10);
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [RealDataFact]
    public async Task TalkingData_reports_cvr_offline_and_the_delayed_join_next_to_the_naive_label()
    {
        var dir = TempFolder();
        try
        {
            var offline = await CliRunner.RunAsync("experiment", "--suite", "offline", "--schema", TestData.Schema("talkingdata.json"), "--data", TestData.TalkingData, "--out", dir, "--json");
            Assert.True(offline.ExitCode == 0, offline.Error);
            Assert.Equal("cvrAuc", (string)offline.Json["primaryMetric"]!);
            Assert.NotNull(offline.Json["strategies"]!["part"]!["cvrAuc"]);
            Assert.Null(offline.Json["strategies"]!["part"]!["ctrAuc"]);

            var realtime = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("talkingdata.json"), "--data", TestData.TalkingData,
                "--strategies", "base,part+fresh", "--attribution-window", "12h", "--feedback", "fnw,defer", "--out", dir, "--json");
            Assert.True(realtime.ExitCode == 0, realtime.Error);
            Assert.Equal("cvr", (string)realtime.Json["task"]!);
            var join = realtime.Json["delayedJoin"]!;
            Assert.Equal("12h", (string)join["attributionWindow"]!);
            Assert.NotNull(join["joinedMeanAuc"]);
            Assert.NotNull(join["naiveMeanAuc"]);
            Assert.NotNull(realtime.Json["strategies"]!["part+fresh+join"]);
            // The delayed-feedback comparison: FNW closes at least half the gap from no updates to the immediate labels.
            var delayed = realtime.Json["delayed"]!;
            Assert.Equal("fnw", (string)delayed["method"]!);
            Assert.Equal((double)realtime.Json["strategies"]!["base"]!["meanAuc"]!, (double)delayed["baseMeanAuc"]!);
            Assert.Equal((double)realtime.Json["strategies"]!["part+fresh+fnw"]!["meanAuc"]!, (double)delayed["correctedMeanAuc"]!);
            Assert.True((double)delayed["gapClosed"]! >= 0.5, delayed.ToJsonString());
            // DEFER ran beside it, as its own run, and closes at least half the gap too.
            var methods = realtime.Json["delayedMethods"]!;
            Assert.Equal((double)delayed["gapClosed"]!, (double)methods["fnw"]!["gapClosed"]!);
            Assert.Equal((double)realtime.Json["strategies"]!["part+fresh+defer"]!["meanAuc"]!, (double)methods["defer"]!["correctedMeanAuc"]!);
            Assert.True((double)methods["defer"]!["gapClosed"]! >= 0.5, methods.ToJsonString());

            var refused = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("talkingdata.json"), "--data", TestData.TalkingData,
                "--attribution-window", "12h", "--feedback", "fnw,wait", "--out", dir, "--json");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("--feedback: 'wait' is not a correction", refused.Error);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Demo_runs_the_synthetic_stream_through_the_system_and_writes_a_report()
    {
        var dir = TempFolder();
        try
        {
            // The delayed-feedback runs are tested with the real-time suite; here they would only add time.
            var r = await CliRunner.RunAsync("demo", "--samples", "150000", "--warmup", "6h", "--strategies", "base,part,promotion", "--every", "4h", "--attribution-window", "none", "--out", dir, "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal("demo", (string)r.Json["command"]!);
            var strategies = r.Json["strategies"]!.AsObject();
            Assert.Equal(["base", "part", "promotion"], strategies.Select(kv => kv.Key));
            Assert.True((double)strategies["part"]!["meanAuc"]! > (double)strategies["base"]!["meanAuc"]!);
            Assert.True((int)strategies["promotion"]!["fullCheckpoints"]! >= 1);
            var report = (string)r.Json["report"]!;
            Assert.True(File.Exists(report));
            Assert.Contains("| promotion |", File.ReadAllText(report));

            // The feedback loop: the poisoned hour is rolled back, nothing else is, and the chart marks it.
            var guard = r.Json["guard"]!;
            Assert.True((int)guard["rollbacks"]! >= 1, guard.ToJsonString());
            Assert.Equal(0, (int)guard["falseRollbacks"]!);
            Assert.InRange((double)guard["detectedAfterMinutes"]!, 0, 40);
            Assert.True((long)guard["scored"]! > 10_000);
            Assert.Contains("## The feedback loop and the served-quality guard", File.ReadAllText(report));
            Assert.True(File.Exists(Path.Combine(dir, "guard.png")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task The_seeds_timeline_starts_updates_at_T1_makes_a_full_update_at_T2_and_stops_at_T3()
    {
        var dir = TempFolder();
        try
        {
            var r = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "160000",
                "--warmup", "6h", "--strategies", "base,part", "--updates-start", "3h", "--full-update-at", "8h", "--updates-stop", "12h", "--out", dir, "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            var part = r.Json["strategies"]!["part"]!;
            // Hourly publish times 3h..11h after the start: eight deltas and, at 8h, the full update instead of a delta.
            Assert.Equal(1, (int)part["fullCheckpoints"]!);
            Assert.Equal(8, (int)part["publishes"]!);
            var report = File.ReadAllText((string)r.Json["report"]!);
            Assert.Contains("updates start at 3h, a full update at 8h, updates stop at 12h", report);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task On_the_synthetic_stream_with_hours_of_conversion_delay_fnw_beats_waiting_for_labels()
    {
        var dir = TempFolder();
        try
        {
            // The suite's default span of the stream (240,000 samples, a quarter of it for the base model), which the goal is stated on.
            var r = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic",
                "--strategies", "base", "--attribution-window", "12h", "--conversion-delay", "3h", "--out", dir, "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal("ctr", (string)r.Json["task"]!);
            // base and the immediate labels run without being asked: the comparison needs them.
            var strategies = r.Json["strategies"]!.AsObject();
            Assert.Equal(["base", "part+fresh", "part+fresh+join", "part+fresh+fnw"], strategies.Select(kv => kv.Key));
            var delayed = r.Json["delayed"]!;
            Assert.Equal((double)strategies["part+fresh+join"]!["cvrMeanAuc"]!, (double)delayed["naiveMeanAuc"]!);
            Assert.True((double)delayed["correctedMeanAuc"]! > (double)delayed["naiveMeanAuc"]!, delayed.ToJsonString());
            Assert.True((double)delayed["gapClosed"]! >= 0.5, delayed.ToJsonString());
            Assert.Contains("closes", File.ReadAllText((string)r.Json["report"]!));

            var log = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("mind.json"), "--data", "/no/such/log", "--conversion-delay", "3h");
            Assert.Equal(2, log.ExitCode);
            Assert.Contains("--conversion-delay: only the synthetic stream's delays can be set", log.Error);
            var never = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--attribution-window", "0h");
            Assert.Contains("--attribution-window: must be positive", never.Error);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [RealDataFact]
    public async Task Bad_input_is_refused_before_any_training()
    {
        var dir = TempFolder();
        Directory.CreateDirectory(dir);
        try
        {
            var log = Path.Combine(dir, "clicks.csv");
            await File.WriteAllLinesAsync(log, ["..ip,app,device,os,click_time,attributed_time,is_attributed", "1,2,3,4,2017-11-07 09:30:38,,0"]);
            var columns = await CliRunner.RunAsync("experiment", "--suite", "offline", "--schema", TestData.Schema("talkingdata.json"), "--data", log);
            Assert.Equal(2, columns.ExitCode);
            Assert.Contains("channel", columns.Error);

            var period = await CliRunner.RunAsync("experiment", "--suite", "offline", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--period", "3d");
            Assert.Equal(2, period.ExitCode);
            Assert.Contains("--period 3d: the log spans", period.Error);
            Assert.Contains("needs three", period.Error);

            var strategy = await CliRunner.RunAsync("experiment", "--suite", "offline", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--strategies", "base,everything");
            Assert.Equal(2, strategy.ExitCode);
            Assert.Contains("'everything' is not a strategy", strategy.Error);
            var realtime = await CliRunner.RunAsync("experiment", "--suite", "realtime", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--strategies", "base,weekly");
            Assert.Equal(2, realtime.ExitCode);
            Assert.Contains("'weekly' is not a real-time strategy", realtime.Error);
            var suite = await CliRunner.RunAsync("experiment", "--suite", "batch", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind);
            Assert.Equal(2, suite.ExitCode);
            Assert.Contains("'batch' is not a suite", suite.Error);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
