using Freshet.Deployments;

namespace Freshet.Feedback;

/// <summary>A joiner's settings: the feedback spec, and the job (and its trainer count) its samples feed.</summary>
[GenerateSerializer, Immutable, Alias("freshet.joiner-config")]
public sealed record JoinerConfig
{
    [Id(0)] public FeedbackSpec Spec { get; init; } = new();
    [Id(1)] public string Job { get; init; } = "";
    [Id(2)] public int Trainers { get; init; } = 1;

    /// <summary>Wall: windows also close as the silo's clock moves; otherwise only as event times (predictions, labels) move.</summary>
    [Id(3)] public ClockKind Clock { get; init; } = ClockKind.Wall;

    [Id(4)] public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's schema (the deployment's): its sequence fields are recorded live from what the loop reports; empty: none.</summary>
    [Id(5)] public string SchemaJson { get; init; } = "";
}
