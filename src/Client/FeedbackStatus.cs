using Freshet.Feedback;
using Freshet.Serving;

namespace Freshet.Client;

/// <summary>A model's feedback loop as its joiners see it.</summary>
/// <param name="Joiners">Each joiner partition's counts (rows logged, labels joined, unmatched and expired, samples made).</param>
/// <param name="Quality">What serving answered against what happened, per weights version, summed over the joiners (oldest first).</param>
public sealed record FeedbackStatus(IReadOnlyList<JoinerStatus> Joiners, IReadOnlyList<ServedQuality> Quality)
{
    /// <summary>The model's live sequence fields (none when its schema has none): keys held and evicted over their shards.</summary>
    public IReadOnlyList<SequenceStatus> Sequences { get; init; } = [];
}
