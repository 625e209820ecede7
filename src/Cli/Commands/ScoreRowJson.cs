using System.Text.Json;
using System.Text.Json.Nodes;
using Freshet.Serving;

namespace Freshet.Cli.Commands;

/// <summary>
/// A row to score from one JSON object (<c>freshet score --rows</c>): text and numbers are values; an array is a list of
/// ids (<see cref="ScoreRow.Lists"/>), each item one id, never joined into one text that the schema's separator would
/// split differently.
/// </summary>
public static class ScoreRowJson
{
    /// <summary>The row in <paramref name="json"/>; <paramref name="where"/> (file and line) names it in errors.</summary>
    /// <exception cref="ArgumentException">Not an object, or a field that is null, an object, or a list of other than text and numbers.</exception>
    public static ScoreRow Parse(string json, string where)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException($"{where}: not a JSON object; write one object per line, e.g. {{\"user\": \"u1\", \"price\": 12.5}}");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{where}: not JSON ({e.Message}); write one object per line");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var lists = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            switch (value)
            {
                case null:
                    throw new ArgumentException($"{where}: field '{key}' is null; leave the field out for a missing value");
                case JsonArray a:
                    lists[key] = [.. a.Select((item, i) => item is JsonValue v
                        ? v.TryGetValue<string>(out var text) ? text : v.ToJsonString()
                        : throw new ArgumentException($"{where}: field '{key}', item {i} is {(item is null ? "null" : "not text or a number")}; a list holds ids"))];
                    break;
                case JsonValue v:
                    values[key] = v.TryGetValue<string>(out var str) ? str : v.ToJsonString();
                    break;
                default:
                    throw new ArgumentException($"{where}: field '{key}' is an object; give text, a number, or a list of ids");
            }
        }
        return new ScoreRow { Values = values, Lists = lists };
    }
}
