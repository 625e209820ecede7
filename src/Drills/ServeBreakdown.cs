using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Feedback;
using Freshet.Model.Data;
using Freshet.Model.Serving;
using Freshet.Serving;
using Freshet.Experiments;
using Freshet.Tools.Output;
using Orleans.Serialization;

namespace Freshet.Drills;

/// <summary>
/// Where a scoring call's time goes, stage by stage, each measured alone in this process with the silo's own code and
/// Orleans' serializer: the client's checks, the request's bytes both ways, featurizing, the forward pass, the
/// predictions' ids and the answer's bytes both ways. What an SDK call costs over their sum is the transport: the
/// client's and the gateway's sockets, the silo's scheduler and the grain call.
/// </summary>
internal static class ServeBreakdown
{
    /// <summary>Times each stage is run; the median is reported.</summary>
    private const int Repeats = 200;

    public static JsonObject Measure(Serializer serializer, ServingReplica replica, RequestFeaturizer featurizer, IReadOnlyList<ScoreRow> requests, string model, int rows, double sdkP50Ms)
    {
        var rowsAsked = requests.Take(rows).ToArray();
        var batch = ScoreBatch.Of(model, rowsAsked, null);
        var requestBytes = serializer.SerializeToArray(batch);
        var now = DateTime.UtcNow;
        List<Sample> Featurize() => featurizer.Featurize(batch.Fields, batch.Rows, batch.Lengths, batch.Text, now, ScoreRequest.MaxRows, ScoreRequest.MaxValueLength);
        var samples = Featurize();
        var (results, version, _) = replica.Score(samples);
        var scores = results.SelectMany(r => new[] { r.Ctr, r.Cvr, r.Ctcvr }).ToArray();
        PredictionId[] Ids() => [.. ScoreAnswer.NewIds(rows).Select(g => new PredictionId(model, 0, g))];
        var ids = Ids();
        var answerBytes = serializer.SerializeToArray(ScoreAnswer.Of(scores, ids, version, TimeSpan.FromSeconds(1), 1));

        var stages = new (string Name, Action Run)[]
        {
            ("clientChecks", () => { ScoreRequest.Validate(model, rowsAsked); ScoreBatch.Of(model, rowsAsked, null); }),
            ("requestEncode", () => serializer.SerializeToArray(batch)),
            ("requestDecode", () => serializer.Deserialize<ScoreBatch>(requestBytes)!.Problem()),
            ("featurize", () => Featurize()),
            ("forward", () => replica.Score(samples)),
            ("predictionIds", () => Ids()),
            ("answerEncode", () => serializer.SerializeToArray(ScoreAnswer.Of(scores, ids, version, TimeSpan.FromSeconds(1), 1))),
            ("answerDecode", () => serializer.Deserialize<ScoreAnswer>(answerBytes)!.Predictions(model, rows)),
        };
        var result = new JsonObject { ["rows"] = rows, ["requestBytes"] = requestBytes.Length, ["answerBytes"] = answerBytes.Length };
        var stageMs = new JsonObject();
        double sum = 0;
        foreach (var (name, run) in stages)
        {
            var ms = MedianMs(run);
            sum += ms;
            stageMs[name] = JsonResult.Metric(ms, 4);
        }
        result["stageMs"] = stageMs;
        result["stagesMs"] = JsonResult.Metric(sum, 4);
        result["sdkP50Ms"] = JsonResult.Metric(sdkP50Ms, 4);
        result["transportMs"] = JsonResult.Metric(Math.Max(0, sdkP50Ms - sum), 4);
        return result;
    }

    /// <summary>The median round trip of a grain call that does no work (the scoring grain's replica status), from <paramref name="client"/>.</summary>
    public static async Task<double> CallFloorMsAsync(IClusterClient client, string model)
    {
        var grain = client.GetGrain<IScoringGrain>(0);
        for (var i = 0; i < 20; i++) await grain.GetReplicaAsync(model);
        var times = new double[Repeats];
        for (var i = 0; i < Repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await grain.GetReplicaAsync(model);
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[Repeats / 2];
    }

    private static double MedianMs(Action run)
    {
        for (var i = 0; i < 5; i++) run();
        var times = new double[Repeats];
        for (var i = 0; i < Repeats; i++)
        {
            var started = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[Repeats / 2];
    }

    public static string Line(JsonObject b) =>
        $"  {b["rows"],4} rows: " + string.Join(", ", ((JsonObject)b["stageMs"]!).Select(kv => $"{kv.Key} {kv.Value}")) +
        $"; stages {b["stagesMs"]} ms of the SDK's p50 {b["sdkP50Ms"]} ms (transport {b["transportMs"]} ms); request {b["requestBytes"]:N0} B, answer {b["answerBytes"]:N0} B";
}
