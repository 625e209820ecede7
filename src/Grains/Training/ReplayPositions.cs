using Freshet.Model.Data;
using Freshet.Samples;

namespace Freshet.Grains.Training;

/// <summary>
/// Which numbered samples a trainer takes: not those a checkpoint it was restored from holds already (the producer
/// replays from before it: the skip list, persisted in the trainer's state), and not a replayable source's repeats (an
/// Event Hubs partition read again from an earlier point). Touched in grain turns only; the counts are read by status.
/// </summary>
internal sealed class ReplayPositions
{
    // Per position key of a replayable source, the last position received in this run.
    private readonly Dictionary<string, long> _lastReceived = new(StringComparer.Ordinal);
    private long _skipped;
    private long _repeated;

    /// <summary>Samples not taken because the checkpoint holds them.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Samples not taken because their source delivered them before.</summary>
    public long Repeated => Interlocked.Read(ref _repeated);

    /// <summary>Whether <see cref="Take"/> changed the skip list (it is then written to state).</summary>
    public bool SkipListChanged { get; set; }

    /// <summary>Whether to train a sample with its position set, given the persisted <paramref name="skipThrough"/> list.</summary>
    public bool Take(Sample sample, TaskKind task, Dictionary<string, long> skipThrough)
    {
        if (sample.Position < 0) return true;
        var key = SampleStreams.PositionKey(task, sample.Source);
        if (skipThrough.TryGetValue(key, out var through))
        {
            if (sample.Position <= through)
            {
                Interlocked.Increment(ref _skipped);
                return false;
            }
            // Past what the checkpoint holds: the replay the list was made for has caught up with it. A later run of the
            // producer numbers from its start again, and none of that is in the checkpoint: nothing more is skipped.
            skipThrough.Remove(key);
            SkipListChanged = true;
        }
        // A replayable source's positions only grow along it, so a lower one is a repeat; a producer's own numbering
        // starts again with each run of the producer (freshet replay), so it is not checked.
        if (sample.Source is not null)
        {
            if (_lastReceived.TryGetValue(key, out var received) && sample.Position <= received)
            {
                Interlocked.Increment(ref _repeated);
                return false;
            }
            _lastReceived[key] = sample.Position;
        }
        return true;
    }

    /// <summary>Restored from a checkpoint: what was received before no longer counts (the weights went back).</summary>
    public void Restored() => _lastReceived.Clear();

    /// <summary>A new run: every count starts over.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _skipped, 0);
        Interlocked.Exchange(ref _repeated, 0);
        _lastReceived.Clear();
    }

    /// <summary>
    /// The trainer's last trained samples by position key (task and source): their positions (what a checkpoint records),
    /// and for a replayable source its own offset of that sample (where a hub resumes).
    /// </summary>
    public static (Dictionary<string, long> Positions, Dictionary<string, string> Offsets) KeyedOf(IReadOnlyList<(TaskKind Task, string? Source, long Position, string? Offset)> last)
    {
        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        var offsets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (task, source, position, offset) in last)
        {
            var key = SampleStreams.PositionKey(task, source);
            positions[key] = position;
            if (offset is not null) offsets[key] = offset;
        }
        return (positions, offsets);
    }
}
