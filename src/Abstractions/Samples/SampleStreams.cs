using Freshet.Model.Data;

namespace Freshet.Samples;

/// <summary>
/// A job's sample streams in namespace <c>samples</c>: <c>{job}/{partition}/ctr</c> and
/// <c>{job}/{partition}/cvr</c>, consumed by trainer <c>{job}/{partition}</c>.
/// </summary>
public static class SampleStreams
{
    public static string Key(string job, int partition, TaskKind task) => $"{new TrainerKey(job, partition)}/{task.Name()}";

    /// <summary>The trainer partition a sample goes to: by its first id, so one user's (or item's) samples meet one trainer.</summary>
    public static int PartitionOf(Sample sample, int partitions) =>
        partitions <= 1 ? 0 : (int)(Freshet.Model.Hashing.IdHasher.Mix(sample.Ids.Length > 0 ? sample.Ids[0] : 0) % (ulong)partitions);

    public static StreamId Id(string job, int partition, TaskKind task) => StreamId.Create(FreshetNames.SamplesNamespace, Key(job, partition, task));

    /// <summary>
    /// A trainer's key for the positions of one of its streams' sources: <c>ctr</c> or <c>cvr</c> when the producer
    /// numbered the samples, <c>ctr@{source}</c> when a replayable source did (an Event Hubs partition, <c>{hub}/{partition}</c>).
    /// A checkpoint's manifest prefixes it with the trainer partition: <c>{partition}/{key}</c>.
    /// </summary>
    public static string PositionKey(TaskKind task, string? source) => source is null ? task.Name() : $"{task.Name()}@{source}";

    /// <summary>The trainer partition and trainer-level key of a manifest's position key (<c>{partition}/{key}</c>); false if it is not one.</summary>
    public static bool TrySplitPositionKey(string manifestKey, out int partition, out string key)
    {
        var cut = manifestKey.IndexOf('/');
        key = cut < 0 ? "" : manifestKey[(cut + 1)..];
        partition = -1;
        return cut > 0 && int.TryParse(manifestKey.AsSpan(0, cut), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out partition) && key.Length > 0;
    }

    /// <summary><c>samples/{job}/{partition}/{task}</c> back into its parts; false for any other stream.</summary>
    public static bool TryParse(StreamId stream, out string job, out int partition, out TaskKind task)
    {
        (job, partition, task) = ("", 0, TaskKind.Ctr);
        var key = stream.GetKeyAsString();
        var cut = key.LastIndexOf('/');
        return stream.GetNamespace() == FreshetNames.SamplesNamespace && cut > 0 && TaskKinds.TryParse(key[(cut + 1)..], out task)
            && GrainKeys.TrySplit(key[..cut], out job, out partition) && Freshet.Model.Schema.NameRule.IsValid(job);
    }
}
