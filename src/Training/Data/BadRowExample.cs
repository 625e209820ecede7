namespace Freshet.Model.Data;

/// <summary>A skipped row: where it is and what was wrong with it.</summary>
public sealed record BadRowExample(string File, long Line, string Reason, string Detail)
{
    public override string ToString() => $"{File}:{Line}: {Detail}";
}
