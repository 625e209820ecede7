namespace Freshet.Model.Feedback;

/// <summary>A label join's counts (<c>LabelJoin</c>, persisted in a joiner's state): labels joined, windows closed, samples evicted, labels unmatched and expired.</summary>
[GenerateSerializer, Immutable, Alias("freshet.label-join-counts")]
public readonly record struct LabelJoinCounts(
    [property: Id(0)] long Joined, [property: Id(1)] long Closed, [property: Id(2)] long Evicted, [property: Id(3)] long Unmatched, [property: Id(4)] long Expired);
