using Freshet.Model.Feedback;

namespace Freshet.Feedback;

/// <summary>
/// A deployment's feedback loop: serving logs every scored row for its joiner; labels reported for it become
/// training samples of the main job. Both joins are labelled as <see cref="Method"/> says: under FNW an impression
/// trains at once as a provisional CTR negative and again as a late positive when clicked within <see cref="ClickWindow"/>,
/// and a click likewise for CVR within <see cref="AttributionWindow"/>; under DEFER likewise, and every sample trains a
/// second time with its real label when its window closes unlabelled; under wait a click makes a CTR positive at once
/// and an impression unclicked when its window closes a negative (docs/FEEDBACK.md).
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.feedback-spec")]
public sealed record FeedbackSpec
{
    [Id(0)] public DelayedFeedback Method { get; init; } = DelayedFeedback.Fnw;

    [Id(1)] public TimeSpan ClickWindow { get; init; } = TimeSpan.FromMinutes(30);

    [Id(2)] public TimeSpan AttributionWindow { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Joiner grains (partitions of the prediction ids); fixed for the deployment's life, as ids name them.</summary>
    [Id(3)] public int Joiners { get; init; } = 4;

    /// <summary>Impressions and clicks one joiner holds while it waits for their labels; past it, the oldest settles early (counted).</summary>
    [Id(4)] public int MaxPendingPerJoiner { get; init; } = 1_000_000;

    /// <summary>The served-quality guard (shadow scoring with the last good weights, automatic rollback); null: off.</summary>
    [Id(5)] public GuardSpec? Guard { get; init; }

    public const int MaxJoiners = 256;

    /// <summary>Every problem of the spec, each naming its field and the fix; empty when it is good.</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. new[]
        {
            !Enum.IsDefined(Method) ? $"feedback.method: {(int)Method} is not a method; use wait, fnw or defer" : null,
            ClickWindow <= TimeSpan.Zero ? "feedback.clickWindow: must be positive (30m is usual)" : null,
            AttributionWindow <= TimeSpan.Zero ? "feedback.attributionWindow: must be positive (12h to 7d is usual)" : null,
            Joiners is < 1 or > MaxJoiners ? $"feedback.joiners: {Joiners}; use 1 to {MaxJoiners}" : null,
            MaxPendingPerJoiner < 1 ? $"feedback.maxPendingPerJoiner: {MaxPendingPerJoiner}; use at least 1" : null,
        }.OfType<string>(),
        .. Guard?.Problems() ?? [],
    ];
}
