namespace Freshet.Grains.Streaming;

/// <summary>
/// What the plain JSON adapter knows of the jobs it feeds: each job's trainer count (the partitions of its
/// sample streams), from <c>Freshet:Silo:SampleJobs:{job}</c>. A job not listed here is refused, so a typo
/// in a producer never creates streams no trainer reads.
/// </summary>
public sealed record SampleRouting(IReadOnlyDictionary<string, int> Trainers)
{
    /// <summary>
    /// The trainer partition of an event whose rows do not say <c>partition</c>: a stable hash (FNV-1a, then
    /// fmix64) of the event's Event Hubs partition key modulo the job's trainers, so every event a producer
    /// keys by user goes to the same trainer; without a partition key, the event's sequence number modulo
    /// the trainers (round robin).
    /// </summary>
    public static int DefaultPartition(string? partitionKey, long sequenceNumber, int trainers) =>
        !string.IsNullOrEmpty(partitionKey)
            ? (int)(Model.Hashing.IdHasher.Hash(partitionKey) % (ulong)trainers)
            : (int)((ulong)Math.Max(0, sequenceNumber) % (ulong)trainers);
}
