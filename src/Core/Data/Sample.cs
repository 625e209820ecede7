namespace Freshet.Model.Data;

/// <summary>One training example, featurized: ids are 64-bit hashes, numbers are transformed.</summary>
public sealed class Sample
{
    public required TaskKind Task { get; init; }

    /// <summary>
    /// Where the sample is in its source, as the producer numbered it (a log's sample index): increasing along each sample
    /// stream. A checkpoint records the last one whose effect it holds, per stream, so a restored job skips what it has.
    /// -1: not known (the stream's producer does not number samples).
    /// </summary>
    public long Position { get; set; } = -1;

    /// <summary>
    /// The replayable source whose numbering <see cref="Position"/> follows, where the stream carries several (an Event
    /// Hubs hub partition: <c>{hub}/{partition}</c>); null: the producer's own numbering along the stream.
    /// </summary>
    public string? Source { get; set; }

    /// <summary>Where the sample's event is in <see cref="Source"/> for a reader to start again at it (an Event Hubs offset); null where there is none.</summary>
    public string? SourceOffset { get; set; }

    /// <summary>Event time, UTC ticks.</summary>
    public required long Time { get; init; }

    /// <summary>1 for a click (CTR) or a conversion (CVR), else 0.</summary>
    public required float Label { get; init; }

    /// <summary>One id per <c>id</c> field, in <see cref="Schema.FeatureLayout.IdFields"/> order.</summary>
    public required ulong[] Ids { get; init; }

    /// <summary>One bag per <c>ids</c> field, in <see cref="Schema.FeatureLayout.BagFields"/> order.</summary>
    public required ulong[][] Bags { get; init; }

    /// <summary>
    /// Per bag, each value's age in seconds at the time its sequence was read (the sample's time in replay, the request's
    /// live), aligned with <see cref="Bags"/>; null, or an entry shorter than its bag: not known, read as 0. Sequence
    /// fields set them (<c>SequenceTracker</c>, live sequences); they travel with the sample so training
    /// sees the ages serving used.
    /// </summary>
    public float[][]? Ages { get; set; }

    /// <summary>One value per numeric field, in <see cref="Schema.FeatureLayout.NumericFields"/> order.</summary>
    public required float[] Numerics { get; init; }

    /// <summary>Hash of the group column (impression id), when the schema names one.</summary>
    public ulong? Group { get; init; }

    /// <summary>The true probability of the label, where a simulator knows it; NaN otherwise.</summary>
    public float TrueProbability { get; init; } = float.NaN;

    /// <summary>When the conversion happened (UTC ticks), for CVR positives whose log records it; 0 otherwise.</summary>
    public long ConversionTime { get; init; }

    /// <summary>
    /// On an impression (a CTR sample) of a log with both labels: 1 when it was clicked and converted, else 0 (the
    /// label of pCTCVR, ESMM's objective on the whole impression space). NaN where the log has no conversions. Used to
    /// score pCTCVR, never to train (a conversion is known only later than its impression).
    /// </summary>
    public float ConversionLabel { get; init; } = float.NaN;

    /// <summary>How the label reached training: final (<see cref="LabelArrival.Known"/>) or a delayed-feedback correction's kind.</summary>
    public LabelArrival Arrival { get; init; }

    /// <summary>This sample's features as an unlabelled sample of <paramref name="task"/> at <paramref name="time"/> (a served impression's click as a CVR sample).</summary>
    public Sample As(TaskKind task, long time) => new()
    {
        Task = task, Time = time, Label = 0, Ids = Ids, Bags = Bags, Ages = Ages, Numerics = Numerics, Group = Group, TrueProbability = float.NaN,
    };

    /// <summary>
    /// This sample's features with another label: <paramref name="conversionTime"/> is when the label became known
    /// (0: at the sample's own time), which is when rate statistics count it.
    /// </summary>
    public Sample Relabelled(float label, LabelArrival arrival, long conversionTime) => new()
    {
        Task = Task, Time = Time, Label = label, Ids = Ids, Bags = Bags, Ages = Ages, Numerics = Numerics, Group = Group,
        TrueProbability = TrueProbability, ConversionTime = conversionTime, ConversionLabel = ConversionLabel, Arrival = arrival,
    };
}
