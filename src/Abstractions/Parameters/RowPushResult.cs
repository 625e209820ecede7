namespace Freshet.Parameters;

[GenerateSerializer, Immutable, Alias("Freshet.Parameters.RowPushResult")]
public sealed record RowPushResult
{
    /// <summary>Rows the optimizer stepped.</summary>
    [Id(0)] public int Applied { get; init; }

    /// <summary>Row updates refused because the job's frozen tier is locked.</summary>
    [Id(1)] public int DroppedFrozen { get; init; }

    /// <summary>The shard's part of every rate's totals after the push (float64, 2 per rate field in layout order).</summary>
    [Id(2)] public byte[] RateTotals { get; init; } = [];
}
