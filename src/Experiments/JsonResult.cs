using System.Text.Json;
using System.Text.Json.Nodes;

namespace Freshet.Experiments;

/// <summary>The one-line JSON result a command prints last with <c>--json</c>; field names are a contract.</summary>
public static class JsonResult
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter output, JsonObject result)
    {
        output.WriteLine(result.ToJsonString(Options));
        output.Flush();
    }

    /// <summary>A metric rounded for reading; null stays null (a metric that is undefined, not zero).</summary>
    public static JsonNode? Metric(double? value, int digits = 6) =>
        value is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, digits)) : null;
}
