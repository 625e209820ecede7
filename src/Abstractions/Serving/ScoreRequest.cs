namespace Freshet.Serving;

[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreRequest")]
public sealed record ScoreRequest
{
    public const int MaxRows = 1000;

    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public IReadOnlyList<ScoreRow> Rows { get; init; } = [];
}
