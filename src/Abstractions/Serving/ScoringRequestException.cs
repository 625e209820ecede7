namespace Freshet.Serving;

/// <summary>A scoring request that cannot be served as asked; the message names the row and field, and how to fix it.</summary>
[GenerateSerializer, Alias("Freshet.Serving.ScoringRequestException")]
public sealed class ScoringRequestException : Exception
{
    public ScoringRequestException() { }

    public ScoringRequestException(string message) : base(message) { }

    public ScoringRequestException(string message, Exception inner) : base(message, inner) { }
}
