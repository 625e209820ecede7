using System.Text.Json;
using System.Text.Json.Serialization;

namespace Freshet.Model.Training;

/// <summary>A training report as JSON, to cross from a trainer grain to whoever asked.</summary>
public static class TrainingReportJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(TrainingReport report) => JsonSerializer.Serialize(report, Options);

    public static TrainingReport Deserialize(string json) =>
        JsonSerializer.Deserialize<TrainingReport>(json, Options) ?? throw new JsonException("empty training report");
}
