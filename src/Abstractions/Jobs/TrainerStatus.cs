namespace Freshet.Jobs;

/// <summary>One trainer's progress.</summary>
[GenerateSerializer, Immutable, Alias("Freshet.Jobs.TrainerStatus")]
public sealed record TrainerStatus
{
    [Id(0)] public string Trainer { get; init; } = "";
    [Id(1)] public JobState State { get; init; }
    [Id(2)] public long SamplesReceived { get; init; }
    [Id(3)] public long SamplesTrained { get; init; }
    [Id(4)] public long Steps { get; init; }
    [Id(5)] public bool Paused { get; init; }

    /// <summary>Both sample streams have sent their end marker and everything received is trained.</summary>
    [Id(6)] public bool Completed { get; init; }

    [Id(7)] public string? Error { get; init; }

    /// <summary>Event time of the latest sample trained on (UTC).</summary>
    [Id(8)] public DateTime? EventTime { get; init; }

    /// <summary>Grain calls the trainer made per step, on average (pulls, pushes, dense).</summary>
    [Id(9)] public double GrainCallsPerStep { get; init; }

    /// <summary>Plain JSON rows the trainer skipped because the job's schema refused them (unknown field, not a number).</summary>
    [Id(10)] public long SamplesRejected { get; init; }

    /// <summary>The silo this trainer runs on (its parsable address).</summary>
    [Id(11)] public string? Silo { get; init; }

    /// <summary>
    /// The position of the last sample trained, per task and source: <c>ctr</c> or <c>cvr</c> for a producer's own
    /// numbering, <c>ctr@{hub}/{partition}</c> for an Event Hubs partition's (numbered streams only).
    /// </summary>
    [Id(12)] public IReadOnlyDictionary<string, long> Positions { get; init; } = new Dictionary<string, long>();

    /// <summary>Samples dropped on arrival because the checkpoint this job was restored from already holds their effect.</summary>
    [Id(13)] public long SamplesSkipped { get; init; }

    /// <summary>
    /// Samples of an Event Hubs partition dropped on arrival because this trainer had received them already: the
    /// partition was read again from an earlier point (its receiver moved to another silo, or a restore rewound it).
    /// </summary>
    [Id(14)] public long SamplesRepeated { get; init; }

    /// <summary>For the keys of <see cref="Positions"/> from an Event Hubs partition, the offset of the event holding the last sample trained: where to read that partition again from.</summary>
    [Id(15)] public IReadOnlyDictionary<string, string> Offsets { get; init; } = new Dictionary<string, string>();

    /// <summary>Samples waiting in the trainer's queues (both tasks), and what they hold at most: bounded, so a producer faster than training is pushed back.</summary>
    [Id(16)] public long SamplesQueued { get; init; }

    [Id(17)] public long QueueCapacity { get; init; }

    /// <summary>Samples dropped because a queue stayed full past the wait a delivery allows (or the trainer had stopped): producers outran training.</summary>
    [Id(18)] public long SamplesShed { get; init; }

    /// <summary>Samples the progressive evaluation holds one by one (recent scores, open groups): bounded, whatever the samples trained.</summary>
    [Id(19)] public long EvaluationHeld { get; init; }

    /// <summary>Ids the counting baselines hold, bounded as their tables are (cap and expiry), and how many they have forgotten.</summary>
    [Id(20)] public long BaselineKeys { get; init; }

    [Id(21)] public long BaselineEvicted { get; init; }

    /// <summary>Samples dropped on arrival because their time was further ahead of the trainer silo's clock than <c>Freshet:Silo:MaxClockSkew</c> (since the trainer's activation).</summary>
    [Id(22)] public long SamplesTimeRejected { get; init; }

    /// <summary>Sample batches dropped on arrival because they did not decode (their samples count in <see cref="SamplesRejected"/>).</summary>
    [Id(23)] public long BatchesUndecodable { get; init; }

    /// <summary>
    /// Errors the sample streams delivered instead of batches (a delivery the stream's cache no longer held, as when the
    /// trainer fell further behind a memory stream than its cache keeps): the batches in them never reached training.
    /// </summary>
    [Id(24)] public long StreamErrors { get; init; }
}
