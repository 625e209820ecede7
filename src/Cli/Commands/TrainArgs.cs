using Freshet.Model.Metrics;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Cli.Commands;

/// <summary>Arguments of <c>freshet train</c>.</summary>
public sealed record TrainArgs
{
    public const long DefaultSyntheticSamples = 300_000;

    public required string Schema { get; init; }

    public required string Data { get; init; }

    /// <summary>Samples to train on (CTR and CVR together); all of a log, 300,000 of the synthetic stream by default.</summary>
    public long? Samples { get; init; }

    public TrainingPlan Plan { get; init; } = Strategy.All;

    public int? BatchSize { get; init; }

    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

    public BadRowPolicy? BadRows { get; init; }

    /// <summary>Folder of a checkpoint store to save the trained model to.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Folder of a checkpoint store to start from (its latest version, or <see cref="RestoreVersion"/>).</summary>
    public string? Restore { get; init; }

    public long? RestoreVersion { get; init; }

    public int? Threads { get; init; }

    /// <summary>Run on a cluster instead of in this process: <c>local</c> is a silo in this process.</summary>
    public string? Cluster { get; init; }

    public int Shards { get; init; } = 4;

    public int Trainers { get; init; } = 1;

    public bool Json { get; init; }

    /// <summary>What the in-process report keeps: every sample (exact; this run is bounded by its log or <see cref="Samples"/>), or bounded aggregates.</summary>
    public EvaluationDetail Evaluation { get; init; } = EvaluationDetail.PerSample;
}
