using Freshet.Model.Data;

namespace Freshet.Model.Schema;

/// <summary>
/// Where a rate field sits in the model input (two values: the smoothed log-odds of the rate and
/// log(1 + count)), which id field it counts, and which task's labels.
/// </summary>
public sealed record RateSlot(FieldSpec Field, int IdField, TaskKind Task, int Offset, double Prior, long? MaxRows, TimeSpan? ExpireAfter)
{
    public const int Width = 2;
}
