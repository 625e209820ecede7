using Freshet.Model.Training;

namespace Freshet.Deployments;

/// <summary>A served model and how it is trained and published.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Deployments.DeploymentSpec")]
public sealed record DeploymentSpec
{
    /// <summary>The served model (what clients score); also the model of the main job's weights and checkpoints.</summary>
    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public string SchemaJson { get; init; } = "";
    [Id(2)] public Strategy Strategy { get; init; } = Strategy.All;
    [Id(3)] public int Shards { get; init; } = 4;
    [Id(4)] public int Trainers { get; init; } = 1;
    [Id(5)] public TimeSpan PublishInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Time of day (UTC) of the daily full checkpoint.</summary>
    [Id(6)] public TimeSpan DailyCheckpointAt { get; init; } = TimeSpan.FromHours(2);

    /// <summary>
    /// The whole hour of day about half a day after <paramref name="utcNow"/>: a <see cref="DailyCheckpointAt"/> that a run of
    /// a few hours (a drill, a bench, a test) never reaches, so its only checkpoints are those it asks for.
    /// </summary>
    public static TimeSpan DailyCheckpointFarFrom(DateTime utcNow) => TimeSpan.FromHours(Math.Floor((utcNow.TimeOfDay.TotalHours + 12) % 24));

    /// <summary>Promotion mode: Model A's checkpoint period.</summary>
    [Id(7)] public TimeSpan PromotionEvery { get; init; } = TimeSpan.FromHours(2);

    [Id(8)] public ClockKind Clock { get; init; } = ClockKind.Wall;

    [Id(9)] public int FreshRowBudget { get; init; } = 10_000;

    [Id(10)] public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Start the main job from this checkpoint version of the model (else from the latest when <see cref="RestoreLatest"/>, else blank).</summary>
    [Id(11)] public long? RestoreVersion { get; init; }
    [Id(12)] public bool RestoreLatest { get; init; }

    /// <summary>How long a trainer waits to fill a batch before it trains a partial one (replays that pause at publish times want it short).</summary>
    [Id(13)] public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Daily mode writes a full checkpoint at <see cref="DailyCheckpointAt"/>; off, only deltas (and explicit checkpoints) reach serving.</summary>
    [Id(14)] public bool DailyCheckpoints { get; init; } = true;

    /// <summary>The feedback loop: serving logs what it answered and reported labels train the main job (null: no loop).</summary>
    [Id(15)] public Feedback.FeedbackSpec? Feedback { get; init; }

    /// <summary>
    /// Full checkpoints of the model kept in the store, the newest; older ones are pruned, except those serving, the guard
    /// (its good weights and rollback ceiling) or the deltas still build on.
    /// </summary>
    [Id(16)] public int KeepCheckpoints { get; init; } = 5;

    /// <summary>The name of one of this deployment's jobs (<see cref="DeploymentJobs.JobOf"/>).</summary>
    public string JobOf(DeploymentJob job) => job.JobOf(Model);
}
