namespace Freshet.Cli.Tests;

public class TrainCommandTests
{
    private static readonly string[] RequiredFields =
        ["samples", "ctrAuc", "ctrLogLoss", "ctrBaselineAuc", "cvrAuc", "cvrBaselineAuc", "ctrOracleAuc", "cvrOracleAuc", "groupAuc", "samplesPerSecond", "badRows", "rows",
         "ctrBaselines", "cvrBaselines", "ctrBestBaselineAuc", "cvrBestBaselineAuc"];

    [Fact]
    public async Task Train_json_prints_one_object_on_the_last_line_with_the_contract_fields()
    {
        var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "5000", "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        foreach (var f in RequiredFields) Assert.True(j.ContainsKey(f), $"missing field '{f}'");
        Assert.Equal(5000, (long)j["samples"]!);
        Assert.NotNull(j["ctrOracleAuc"]);
        Assert.NotNull(j["cvrOracleAuc"]);
        Assert.Null(j["groupAuc"]);
        Assert.Equal(0, (long)j["badRows"]!);
        Assert.True((long)j["rows"]!["user"]! > 0);
        Assert.Contains("synthetic: 5,000 samples", r.Out); // the readable summary comes first
        // Every id field's counter and their mean; the best of them, also in the summary next to the model.
        var baselines = j["ctrBaselines"]!.AsObject();
        Assert.Equal(["user", "item", "category", "device", "mean"], baselines.Select(kv => kv.Key));
        Assert.Equal(baselines.Select(kv => (double)kv.Value!).Max(), (double)j["ctrBestBaselineAuc"]!);
        Assert.Contains("counters (running rate per field): user ", r.Out);
    }

    [Fact]
    public async Task A_bad_schema_exits_with_a_message_naming_the_problem()
    {
        var dir = Path.Combine(Path.GetTempPath(), "freshet-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var schema = Path.Combine(dir, "s.json");
            await File.WriteAllTextAsync(schema, File.ReadAllText(TestData.Schema("synthetic.json")).Replace("\"frozen\"", "\"icy\"", StringComparison.Ordinal));
            var r = await CliRunner.RunAsync("train", "--schema", schema, "--data", "synthetic", "--json");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("'icy' is not accepted here; use one of: frozen, changing, dense", r.Error);
            Assert.Contains(schema, r.Error);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Bad_arguments_are_refused_with_the_option_named()
    {
        var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--strategy", "most");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--strategy: 'most' is not a strategy", r.Error);
        var missing = await CliRunner.RunAsync("train", "--schema", TestData.Schema("mind.json"), "--data", "/no/such/log");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--data '/no/such/log' is neither a file nor a folder", missing.Error);
    }

    [Fact]
    public async Task Cluster_and_silo_errors_come_back_through_the_command_line()
    {
        var dir = Path.Combine(Path.GetTempPath(), "freshet-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "1000", "--cluster", "local", "--restore", dir, "--restore-version", "99");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("checkpoint version 99 of model 'synthetic' does not exist", r.Error);
            var silo = await CliRunner.RunAsync("silo", "--profile", "cloud");
            Assert.Equal(2, silo.ExitCode);
            Assert.Contains("Freshet:Silo:Profile: 'cloud' is not a profile; use one of: local, azurite", silo.Error);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Checkpoint_then_restore_continues_from_the_saved_model()
    {
        var dir = Path.Combine(Path.GetTempPath(), "freshet-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "3000", "--checkpoint", dir, "--json");
            Assert.Equal(0, first.ExitCode);
            Assert.Equal(1, (long)first.Json["checkpoint"]!["version"]!);
            var second = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "3000", "--restore", dir, "--strategy", "base", "--json");
            Assert.Equal(0, second.ExitCode);
            Assert.Equal(1, (long)second.Json["restoredVersion"]!);
            // The restored model scores the same stream better than a blank model would (AUC 0.5 with base).
            Assert.True((double)second.Json["ctrAuc"]! > 0.6);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Synthetic_stream_model_recovers_most_of_the_oracle_lift_in_process_and_on_a_local_cluster()
    {
        var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "300000", "--json");
        Assert.Equal(0, r.ExitCode);
        var auc = (double)r.Json["ctrAuc"]!;
        var oracle = (double)r.Json["ctrOracleAuc"]!;
        Assert.True(auc - 0.5 >= 0.8 * (oracle - 0.5), $"ctrAuc {auc} recovers less than 80% of the oracle's lift (oracle {oracle})");

        var c = await CliRunner.RunAsync("train", "--schema", TestData.Schema("synthetic.json"), "--data", "synthetic", "--samples", "300000", "--cluster", "local", "--json");
        Assert.Equal(0, c.ExitCode);
        AssertSameTraining(r.Json, c.Json);
    }

    /// <summary>The cluster run trained the same samples to the same quality, and says how it ran.</summary>
    private static void AssertSameTraining(System.Text.Json.Nodes.JsonObject local, System.Text.Json.Nodes.JsonObject cluster)
    {
        Assert.Equal((long)local["samples"]!, (long)cluster["samples"]!);
        Assert.InRange((double)cluster["ctrAuc"]! - (double)local["ctrAuc"]!, -0.005, 0.005);
        // The same counts on the same samples: equal but for the cluster trainers' bounded evaluation, whose AUC comes from
        // log-odds histograms (pairs within a 0.004-wide bin count half; the in-process run keeps every score).
        Assert.Equal((double)local["ctrBaselineAuc"]!, (double)cluster["ctrBaselineAuc"]!, 0.0005);
        var info = cluster["cluster"]!.AsObject();
        Assert.Equal(4, (int)info["shards"]!);
        Assert.Equal(1, (int)info["trainers"]!);
        Assert.InRange((double)info["grainCallsPerStep"]!, 2, 9);
        Assert.True((double)info["barrierPauseMs"]! >= 0);
        Assert.Equal(local["rows"]!.ToJsonString(), cluster["rows"]!.ToJsonString());
    }

    [RealDataFact]
    public async Task Mind_model_beats_the_running_item_popularity_baseline_in_process_and_on_a_local_cluster()
    {
        var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(189_359, (long)j["samples"]!);
        Assert.True((double)j["ctrAuc"]! > (double)j["ctrBaselineAuc"]!, $"ctrAuc {j["ctrAuc"]} <= baseline {j["ctrBaselineAuc"]}");
        Assert.NotNull(j["groupAuc"]);
        Assert.Null(j["cvrAuc"]);

        var c = await CliRunner.RunAsync("train", "--schema", TestData.Schema("mind.json"), "--data", TestData.Mind, "--cluster", "local", "--json");
        Assert.Equal(0, c.ExitCode);
        AssertSameTraining(j, c.Json);
    }

    [RealDataFact]
    public async Task TalkingData_reports_cvr_auc_next_to_the_per_app_rate()
    {
        var r = await CliRunner.RunAsync("train", "--schema", TestData.Schema("talkingdata.json"), "--data", TestData.TalkingData, "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal(100_000, (long)j["cvrSamples"]!);
        Assert.Equal(227, (long)j["cvrPositives"]!);
        Assert.InRange((double)j["cvrAuc"]!, 0.8, 1.0);
        Assert.InRange((double)j["cvrBaselineAuc"]!, 0.9, 1.0);
        Assert.Null(j["ctrAuc"]);
    }

    [Fact]
    public async Task Bench_train_reports_the_trainer_against_its_step_and_the_cluster_with_one_and_two_trainers()
    {
        var bad = await CliRunner.RunAsync("bench", "train", "--trainers", "1,many", "--json");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--trainers: 'many' is not a number of trainers", bad.Error);

        var r = await CliRunner.RunAsync("bench", "train", "--samples", "8000", "--shards", "2", "--trainers", "1,2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var j = r.Json;
        foreach (var field in new[]
        {
            "bareSamplesPerSecond", "stepSamplesPerSecond", "stepSameBatchesSamplesPerSecond", "trainerSamplesPerSecond", "readerSamplesPerSecond",
            "clusterSamplesPerSecond", "stepVsBare", "trainerVsStep", "trainerVsStepSameBatches", "ratio", "localCtrAuc", "clusterCtrAuc",
            "ctrBestBaselineAuc", "clusterCtrBestBaselineAuc",
        })
        {
            Assert.True(j[field]!.GetValue<double>() > 0, $"{field}: {j.ToJsonString()}");
        }
        var counts = j["trainerCounts"]!.AsArray();
        Assert.Equal([1, 2], counts.Select(c => c!["trainers"]!.GetValue<int>()).ToArray());
        Assert.Equal(1.0, counts[0]!["vsOneTrainer"]!.GetValue<double>());
        foreach (var c in counts)
        {
            Assert.True(c!["clusterSamplesPerSecond"]!.GetValue<double>() > 0, c.ToJsonString());
            // The dense grain was busy for some of the run, never more than all of it.
            Assert.InRange(c["denseBusyFraction"]!.GetValue<double>(), 1e-6, 1.0);
            Assert.InRange(c["clusterCtrAuc"]!.GetValue<double>(), 0.55, 1.0);
        }
    }
}

