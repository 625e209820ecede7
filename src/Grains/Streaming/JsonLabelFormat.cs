using System.Globalization;
using System.Text.Json;
using Freshet.Feedback;

namespace Freshet.Grains.Streaming;

/// <summary>
/// The plain JSON labels format on the labels hub (docs/PRODUCERS.md): one event is one object or an array of
/// objects <c>{"predictionId":"shop/1/7f3a...","event":"click","time":"2026-12-05T10:00:00Z"}</c> (<c>event</c>:
/// <c>click</c> or <c>conversion</c>). Reading never throws: a bad label is skipped and reported with its index,
/// property and fix.
/// </summary>
public static class JsonLabelFormat
{
    private static readonly string[] Properties = ["predictionId", "event", "time"];

    /// <summary>The labels of one event, and the ones (or the whole event, row -1) skipped and why.</summary>
    public sealed record LabelEvent(IReadOnlyList<FeedbackLabel> Labels, IReadOnlyList<SampleRejection> Rejected);

    public static LabelEvent Read(ReadOnlySpan<byte> body)
    {
        // A string of invalid UTF-8 parses, then throws when read: refused whole, here, as the format says.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return Refused("the event is not UTF-8 text; send labels as UTF-8 JSON");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException e)
        {
            return Refused($"the event is not JSON ({e.Message}); send one label object or an array of them, UTF-8, e.g. {{\"predictionId\":\"shop/1/...\",\"event\":\"click\",\"time\":\"2026-12-05T10:00:00Z\"}}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            List<JsonElement>? items = root.ValueKind switch
            {
                JsonValueKind.Object => [root],
                JsonValueKind.Array => [.. root.EnumerateArray()],
                _ => null,
            };
            if (items is null) return Refused($"the event is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; send one label object or an array of them");
            var labels = new List<FeedbackLabel>(items.Count);
            var rejected = new List<SampleRejection>();
            for (var i = 0; i < items.Count; i++)
            {
                if (ReadLabel(items[i], i, out var label) is { } problem) rejected.Add(problem);
                else labels.Add(label!);
            }
            return new LabelEvent(labels, rejected);
        }
    }

    private static SampleRejection? ReadLabel(JsonElement item, int i, out FeedbackLabel? label)
    {
        label = null;
        if (item.ValueKind != JsonValueKind.Object) return new SampleRejection(i, "shape", null, $"label {i} is a JSON {item.ValueKind.ToString().ToLowerInvariant()}; send an object with predictionId, event and time");
        foreach (var p in item.EnumerateObject())
        {
            if (!Properties.Contains(p.Name, StringComparer.Ordinal))
            {
                return new SampleRejection(i, "unknown-property", p.Name, $"label {i}: property '{p.Name}' is not one; use {string.Join(", ", Properties)}");
            }
        }
        if (!item.TryGetProperty("predictionId", out var idValue) || idValue.ValueKind != JsonValueKind.String || !PredictionId.TryParse(idValue.GetString(), out var id))
        {
            return new SampleRejection(i, "prediction-id", "predictionId", $"label {i}: predictionId must be a prediction id as scoring returned it ({{model}}/{{joiner}}/{{32 hex digits}})");
        }
        if (!item.TryGetProperty("event", out var eventValue) || eventValue.ValueKind != JsonValueKind.String || !FeedbackEvents.TryParse(eventValue.GetString(), out var kind))
        {
            return new SampleRejection(i, "event", "event", $"label {i}: event must be \"click\" or \"conversion\"");
        }
        if (!item.TryGetProperty("time", out var timeValue) || timeValue.ValueKind != JsonValueKind.String
            || !DateTime.TryParse(timeValue.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return new SampleRejection(i, "time", "time", $"label {i}: time must be an ISO 8601 UTC time, e.g. \"2026-12-05T10:00:00Z\"");
        }
        label = new FeedbackLabel { Prediction = id, Event = kind, Time = DateTime.SpecifyKind(time, DateTimeKind.Utc) };
        return null;
    }

    /// <summary>Labels as the format writes them (an array).</summary>
    public static byte[] Write(IEnumerable<FeedbackLabel> labels)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartArray();
            foreach (var l in labels)
            {
                w.WriteStartObject();
                w.WriteString("predictionId", l.Prediction.ToString());
                w.WriteString("event", l.Event.Name());
                w.WriteString("time", l.Time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return ms.ToArray();
    }

    private static LabelEvent Refused(string message) => new([], [new SampleRejection(-1, "json", null, message)]);
}
