using Freshet.Model.Training;

namespace Freshet.Jobs;

/// <summary>What a training job is: its model, schema, strategy and layout in the cluster.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Jobs.JobSpec")]
public sealed record JobSpec
{
    /// <summary>The model the job trains; its shard, dense and checkpoint keys.</summary>
    [Id(0)] public string Model { get; init; } = "";

    /// <summary>The feature schema, as JSON.</summary>
    [Id(1)] public string SchemaJson { get; init; } = "";

    /// <summary>Which tiers the trainers train; fresh frozen rows ride the deltas under <see cref="FreshRowBudget"/> whatever it is.</summary>
    [Id(2)] public Strategy Strategy { get; init; } = Strategy.All;

    /// <summary>Embedding shard grains the rows are spread over.</summary>
    [Id(3)] public int Shards { get; init; } = 4;

    /// <summary>Trainer grains, one per sample-stream partition.</summary>
    [Id(4)] public int Trainers { get; init; } = 1;

    /// <summary>Refuse this job's changes to the frozen tier (promotion Model B).</summary>
    [Id(5)] public bool LockFrozen { get; init; }

    /// <summary>Start from this checkpoint version of the model; null starts from the latest when <see cref="RestoreLatest"/>, else blank.</summary>
    [Id(6)] public long? RestoreVersion { get; init; }

    [Id(7)] public bool RestoreLatest { get; init; }

    /// <summary>Longest a partial batch waits for more samples (wall time).</summary>
    [Id(8)] public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Event-time window of the trainers' windowed metrics.</summary>
    [Id(9)] public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Full checkpoints of the model kept; older ones are deleted.</summary>
    [Id(10)] public int KeepCheckpoints { get; init; } = 5;

    /// <summary>How often shards and the dense grain write the changing and dense tiers to grain state.</summary>
    [Id(11)] public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model serving knows this job's weights as (its deltas and announced checkpoints go on that model's weights stream); default <see cref="Model"/>.</summary>
    [Id(12)] public string? ServedModel { get; init; }

    /// <summary>Fresh frozen-tier rows (ids new since the base checkpoint) a delta may carry.</summary>
    [Id(13)] public int FreshRowBudget { get; init; } = 10_000;

    public string Served => string.IsNullOrEmpty(ServedModel) ? Model : ServedModel;

    /// <summary>Whose sample streams the trainers read (default this job's own): promotion Model B reads Model A's.</summary>
    [Id(14)] public string? SampleStreams { get; init; }
}
