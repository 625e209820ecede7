namespace Freshet.Model.Data;

/// <summary>The two learning tasks: CTR samples are impressions labelled by click, CVR samples are clicks labelled by conversion.</summary>
public enum TaskKind
{
    Ctr,
    Cvr,
}
