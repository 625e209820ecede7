namespace Freshet.Parameters;

[GenerateSerializer, Immutable, Alias("Freshet.Parameters.ShardStatus")]
public sealed record ShardStatus
{
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public int Shard { get; init; }
    [Id(2)] public IReadOnlyDictionary<string, long> Rows { get; init; } = new Dictionary<string, long>();

    /// <summary>Row updates refused by a frozen-tier lock, per job.</summary>
    [Id(3)] public IReadOnlyDictionary<string, long> DroppedFrozen { get; init; } = new Dictionary<string, long>();

    /// <summary>The last step of each trainer applied here.</summary>
    [Id(4)] public IReadOnlyDictionary<string, long> Steps { get; init; } = new Dictionary<string, long>();

    /// <summary>The checkpoint version the frozen tier was loaded from, if any.</summary>
    [Id(5)] public long? LoadedCheckpoint { get; init; }

    [Id(6)] public DateTime? LastPersisted { get; init; }

    [Id(7)] public IReadOnlyList<string> LockedJobs { get; init; } = [];

    /// <summary>When this activation of the shard started (a new one after a deactivation or a silo's loss).</summary>
    [Id(8)] public DateTime ActivatedUtc { get; init; }

    /// <summary>Changes since the last write to grain state (lost if the silo dies now, up to one persist interval's worth).</summary>
    [Id(9)] public bool Unpersisted { get; init; }

    /// <summary>The silo this activation runs on (its parsable address).</summary>
    [Id(10)] public string? Silo { get; init; }

    /// <summary>Rows removed per table since this activation: expired (not seen for the table's expiry) or evicted past its cap.</summary>
    [Id(11)] public IReadOnlyDictionary<string, long> Evicted { get; init; } = new Dictionary<string, long>();

    /// <summary>Why the shard cannot train (its persisted state could not be read), with what to do; null when it can.</summary>
    [Id(12)] public string? Error { get; init; }
}
