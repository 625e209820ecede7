namespace Freshet.Serving;

/// <summary>
/// One row to score: the schema's field names and their values as text (an <c>ids</c> field's values joined by its
/// separator), or, for an <c>ids</c> field, as a list (<see cref="Lists"/>: each item one id, whatever the separator).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreRow")]
public sealed record ScoreRow
{
    [Id(0)] public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();

    /// <summary><c>ids</c> fields given as lists of ids (a JSON array): each item is one id, as a part between separators would be.</summary>
    [Id(1)] public IReadOnlyDictionary<string, IReadOnlyList<string>> Lists { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public static ScoreRow Of(params (string Field, string Value)[] values) => new() { Values = values.ToDictionary(v => v.Field, v => v.Value) };
}
