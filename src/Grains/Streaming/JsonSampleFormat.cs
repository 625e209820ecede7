using Freshet.Model.Data;
using System.Globalization;
using System.Text.Json;
using Freshet.Samples;

namespace Freshet.Grains.Streaming;

/// <summary>
/// The plain JSON sample format upstream producers send on the samples hubs (docs/PRODUCERS.md): one
/// event is one object or an array of objects
/// <c>{"job":"shop-main","time":"2026-11-28T10:00:00Z","label":1,"fields":{"user":"u1","price":12.5}}</c>
/// with optional <c>"task"</c> (<c>ctr</c>|<c>cvr</c>, default: the hub's) and <c>"partition"</c> (the trainer).
/// Reading never throws: a bad row is skipped and reported with its index, property and fix.
/// </summary>
public static class JsonSampleFormat
{
    private static readonly string[] Properties = ["job", "time", "label", "fields", "task", "partition"];

    /// <summary>Reads one event's body. <paramref name="hubTask"/> is the task of the hub it arrived on.</summary>
    public static SampleEvent Read(ReadOnlySpan<byte> body, TaskKind hubTask, string? partitionKey, long sequenceNumber, SampleRouting routing)
    {
        // A string of invalid UTF-8 parses, then throws when read: refused whole, here, as the format says.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return Refused("json", "the event is not UTF-8 text; send samples as UTF-8 JSON");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            return Refused("json", $"the event is not JSON ({e.Message}); send one sample object or an array of them, UTF-8, e.g. {{\"job\":\"shop-main\",\"time\":\"2026-11-28T10:00:00Z\",\"label\":1,\"fields\":{{\"user\":\"u1\"}}}}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            var items = root.ValueKind switch
            {
                JsonValueKind.Object => [root],
                JsonValueKind.Array => root.EnumerateArray().ToList(),
                _ => null,
            };
            if (items is null)
            {
                return Refused("json", $"the event is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; send one sample object or an array of them");
            }
            var rejected = new List<SampleRejection>();
            var rows = new List<RawSample>(items.Count);
            string? job = null;
            var task = hubTask;
            var partition = 0;
            for (var i = 0; i < items.Count; i++)
            {
                var row = ReadRow(items[i], i, hubTask, partitionKey, sequenceNumber, routing, out var rowJob, out var rowTask, out var rowPartition);
                if (row.Error is { } error)
                {
                    rejected.Add(error);
                    continue;
                }
                if (job is null)
                {
                    (job, task, partition) = (rowJob!, rowTask, rowPartition);
                }
                else if (rowJob != job || rowTask != task || rowPartition != partition)
                {
                    rejected.Add(new SampleRejection(i, "route", "job", $"row {i} goes to job '{rowJob}' task {rowTask.Name()} partition {rowPartition}, but this event's first row to job '{job}' task {task.Name()} partition {partition}: one event feeds one trainer stream; send rows of another job, task or partition as their own event"));
                    continue;
                }
                rows.Add(row.Sample!);
            }
            return new SampleEvent(job, partition, task, rows, rejected, items.Count);
        }
    }

    /// <summary>Writes rows of one stream as the plain JSON format (an array), with job, partition and task explicit.</summary>
    public static byte[] Write(string job, int partition, TaskKind task, IEnumerable<RawSample> rows)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartArray();
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("job", job);
                w.WriteString("task", task.Name());
                w.WriteNumber("partition", partition);
                w.WriteString("time", new DateTime(r.Time, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture));
                w.WriteNumber("label", r.Label);
                w.WriteStartObject("fields");
                foreach (var (name, value) in r.Fields) w.WriteString(name, value);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return ms.ToArray();
    }

    private static SampleEvent Refused(string reason, string message) => new(null, 0, TaskKind.Ctr, [], [new SampleRejection(-1, reason, null, message)], 0);

    private readonly record struct RowResult(RawSample? Sample, SampleRejection? Error);

    private static RowResult ReadRow(JsonElement e, int i, TaskKind hubTask, string? partitionKey, long sequenceNumber, SampleRouting routing, out string? job, out TaskKind task, out int partition)
    {
        job = null;
        task = hubTask;
        partition = 0;
        RowResult Bad(string reason, string? field, string message) => new(null, new SampleRejection(i, reason, field, $"row {i}: {message}"));

        if (e.ValueKind != JsonValueKind.Object) return Bad("json", null, $"is a JSON {e.ValueKind.ToString().ToLowerInvariant()}, not a sample object");
        foreach (var p in e.EnumerateObject())
        {
            if (!Properties.Contains(p.Name)) return Bad("property", p.Name, $"property '{p.Name}' is not part of the format (properties: {string.Join(", ", Properties)}); model fields go inside \"fields\"");
        }

        if (!e.TryGetProperty("job", out var j) || j.ValueKind != JsonValueKind.String || j.GetString() is not { Length: > 0 } jobName)
        {
            return Bad("job", "job", "\"job\" is missing or not a string; name the job (the sample streams) the row feeds, e.g. \"job\":\"shop-main\"");
        }
        if (!routing.Trainers.TryGetValue(jobName, out var trainers))
        {
            var known = routing.Trainers.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", routing.Trainers.Keys.Order(StringComparer.Ordinal));
            return Bad("job", "job", $"job '{Truncate(jobName)}' is not fed by this silo ({known}); fix the producer's job name, or add Freshet:Silo:SampleJobs:{Truncate(jobName)}=<trainers> to the silos' settings");
        }

        task = hubTask;
        if (e.TryGetProperty("task", out var t))
        {
            if (t.ValueKind != JsonValueKind.String || !TaskKinds.TryParse(t.GetString(), out task))
            {
                return Bad("task", "task", $"\"task\" is {Describe(t)}; use \"ctr\" (impressions labelled by click) or \"cvr\" (clicks labelled by conversion), or leave it out to use the hub's task ({hubTask.Name()})");
            }
        }

        if (e.TryGetProperty("partition", out var p2))
        {
            if (p2.ValueKind != JsonValueKind.Number || !p2.TryGetInt32(out partition) || partition < 0 || partition >= trainers)
            {
                return Bad("partition", "partition", $"\"partition\" is {Describe(p2)}; job '{jobName}' has {trainers} trainer(s): give an integer 0..{trainers - 1}, or leave it out to route by the event's partition key");
            }
        }
        else
        {
            partition = SampleRouting.DefaultPartition(partitionKey, sequenceNumber, trainers);
        }

        if (!e.TryGetProperty("time", out var tm) || !TryReadTime(tm, out var time))
        {
            return Bad("time", "time", $"\"time\" is {(e.TryGetProperty("time", out var tv) ? Describe(tv) : "missing")}; give the event time as ISO 8601 with a UTC offset (\"2026-11-28T10:00:00Z\") or as Unix seconds (1795860000)");
        }

        if (!e.TryGetProperty("label", out var l) || !TryReadLabel(l, out var label))
        {
            return Bad("label", "label", $"\"label\" is {(e.TryGetProperty("label", out var lv) ? Describe(lv) : "missing")}; give 1 (clicked / converted) or 0 (not), or true/false");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!e.TryGetProperty("fields", out var f) || f.ValueKind != JsonValueKind.Object)
        {
            return Bad("fields", "fields", $"\"fields\" is {(e.TryGetProperty("fields", out var fv) ? Describe(fv) : "missing")}; give an object of the model's fields, e.g. \"fields\":{{\"user\":\"u1\",\"price\":12.5}}");
        }
        foreach (var field in f.EnumerateObject())
        {
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.String: fields[field.Name] = field.Value.GetString()!; break;
                case JsonValueKind.Number: fields[field.Name] = field.Value.GetRawText(); break;
                case JsonValueKind.True: fields[field.Name] = "true"; break;
                case JsonValueKind.False: fields[field.Name] = "false"; break;
                case JsonValueKind.Null: break;
                default:
                    return Bad("field", field.Name, $"field '{field.Name}' is {Describe(field.Value)}; a field value is a string, number or boolean (an ids field is one string, items separated by the schema's separator)");
            }
        }
        job = jobName;
        return new RowResult(new RawSample { Time = time, Label = label, Fields = fields, Index = i }, null);
    }

    private static bool TryReadTime(JsonElement e, out long ticks)
    {
        ticks = 0;
        if (e.ValueKind == JsonValueKind.String)
        {
            if (!DateTime.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var dt) || dt.Kind == DateTimeKind.Unspecified) return false;
            ticks = dt.ToUniversalTime().Ticks;
            return true;
        }
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var seconds) && double.IsFinite(seconds) && seconds >= 0 && seconds < 253_402_300_799)
        {
            ticks = DateTime.UnixEpoch.Ticks + (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
            return true;
        }
        return false;
    }

    private static bool TryReadLabel(JsonElement e, out float label)
    {
        label = e.ValueKind switch
        {
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            JsonValueKind.Number when e.TryGetDouble(out var x) && x is 0 or 1 => (float)x,
            _ => -1,
        };
        return label >= 0;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"'{Truncate(e.GetString()!)}'",
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => e.GetRawText(),
    };

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "...";
}
