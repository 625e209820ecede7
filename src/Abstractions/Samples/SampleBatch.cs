namespace Freshet.Samples;

/// <summary>
/// Samples on a <c>samples</c> stream: featurized and encoded as bytes (<see cref="Payload"/>, from
/// <c>freshet replay</c>), or raw rows a producer sent as plain JSON (<see cref="Rows"/>, featurized by the
/// trainer); an end marker closes the stream for its trainer.
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Samples.SampleBatch")]
public sealed record SampleBatch
{
    [Id(0)] public byte[] Payload { get; init; } = [];
    [Id(1)] public int Count { get; init; }

    /// <summary>No more samples will come on this stream.</summary>
    [Id(2)] public bool EndOfStream { get; init; }

    /// <summary>Raw rows (plain JSON producers); <see cref="Count"/> counts them.</summary>
    [Id(3)] public RawSample[] Rows { get; init; } = [];

    /// <summary>Where the rows came from (hub, partition, sequence number, offset), for logs of bad rows.</summary>
    [Id(4)] public string? Origin { get; init; }

    /// <summary>Each sample's position in its source (<c>Sample.Position</c>), in order; empty: the producer does not number them.</summary>
    [Id(5)] public long[] Positions { get; init; } = [];

    /// <summary>
    /// The replayable source <see cref="Positions"/> count in, where one stream gathers samples from several (an Event
    /// Hubs hub partition, <c>{hub}/{partition}</c>, whose sequence numbers they follow); null: the producer numbered them.
    /// </summary>
    [Id(6)] public string? Source { get; init; }

    /// <summary>Where this batch's event is in <see cref="Source"/> for a reader to start again at it (the Event Hubs offset of the event).</summary>
    [Id(7)] public string? SourceOffset { get; init; }

    /// <summary>
    /// The <c>SamplePublisher</c> that sent the batch (<see cref="Guid.Empty"/>: none, as joiners and hub readers): trainers
    /// count what each publisher's batches delivered, and the publisher waits on its own count, never on what other
    /// producers of the same job delivered.
    /// </summary>
    [Id(8)] public Guid Producer { get; init; }
}
