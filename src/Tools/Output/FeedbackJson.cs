using System.Text.Json.Nodes;
using Freshet.Client;

namespace Freshet.Tools.Output;

/// <summary>A feedback loop as the commands report it under <c>feedback</c> (<c>status --json</c>, <c>drill soak --feedback</c>).</summary>
public static class FeedbackJson
{
    /// <summary>The joiners' counts summed over them, and each live sequence's keys, evictions and cap over its shards.</summary>
    public static JsonObject Of(FeedbackStatus feedback)
    {
        var j = feedback.Joiners;
        return new JsonObject
        {
            ["predictions"] = j.Sum(x => x.Predictions),
            ["clicks"] = j.Sum(x => x.Clicks),
            ["conversions"] = j.Sum(x => x.Conversions),
            ["labelsUnmatched"] = j.Sum(x => x.LabelsUnmatched),
            ["labelsExpired"] = j.Sum(x => x.LabelsExpired),
            ["evicted"] = j.Sum(x => x.Evicted),
            ["ctrSamples"] = j.Sum(x => x.CtrSamples),
            ["cvrSamples"] = j.Sum(x => x.CvrSamples),
            ["pending"] = j.Sum(x => (long)x.PendingImpressions + x.PendingClicks),
            ["timesRejected"] = j.Sum(x => x.TimesRejected),
            ["sequences"] = new JsonObject(feedback.Sequences.Select(q => KeyValuePair.Create(q.Field, (JsonNode?)new JsonObject
            {
                ["keys"] = q.Keys,
                ["evicted"] = q.Evicted,
                ["maxKeys"] = q.MaxKeys,
            }))),
        };
    }
}
