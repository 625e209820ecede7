namespace Freshet.Serving;

/// <summary>One row to score: the schema's field names and their values as text (an <c>ids</c> field's values joined by its separator).</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreRow")]
public sealed record ScoreRow
{
    [Id(0)] public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();

    public static ScoreRow Of(params (string Field, string Value)[] values) => new() { Values = values.ToDictionary(v => v.Field, v => v.Value) };
}
