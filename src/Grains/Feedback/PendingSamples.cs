using Freshet.Model.Data;
using Freshet.Model.Feedback;

namespace Freshet.Grains.Feedback;

/// <summary>One join's pending samples and counts, as persisted.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Feedback.PendingSamples")]
public sealed class PendingSamples
{
    [Id(0)] public Guid[] Keys { get; set; } = [];
    [Id(1)] public long[] Deadlines { get; set; } = [];
    [Id(2)] public byte[] Samples { get; set; } = [];
    [Id(3)] public LabelJoinCounts Counts { get; set; }

    /// <summary>What <paramref name="join"/> holds now, encoded for persisting.</summary>
    public static PendingSamples Of(LabelJoin<Guid> join)
    {
        var entries = join.Entries.ToList();
        return new PendingSamples
        {
            Keys = [.. entries.Select(e => e.Key)],
            Deadlines = [.. entries.Select(e => e.Deadline)],
            Samples = entries.Count == 0 ? [] : SampleCodec.Encode([.. entries.Select(e => e.Sample)]),
            Counts = join.Counts,
        };
    }

    /// <summary>Puts these pending samples and counts back into <paramref name="join"/> (restoring a persisted join).</summary>
    public void RestoreInto(LabelJoin<Guid> join)
    {
        var samples = Samples.Length == 0 ? [] : SampleCodec.Decode(Samples);
        for (var i = 0; i < Keys.Length; i++) join.Restore(Keys[i], samples[i], Deadlines[i]);
        join.Counts = Counts;
    }
}
