namespace Freshet.Grains.Training;

/// <summary>
/// Samples each publisher's batches delivered to a trainer (<see cref="Freshet.Samples.SampleBatch.Producer"/>), so a
/// publisher can bound what it has in flight by its own samples. At most <see cref="Max"/> publishers are counted: past
/// it, the one counted longest ago is forgotten (its publisher, if still running, waits on a fresh count).
/// Touched in grain turns only.
/// </summary>
internal sealed class ProducerCounts
{
    /// <summary>Publishers counted at once.</summary>
    public const int Max = 1024;

    private readonly Dictionary<Guid, (long Samples, long Touched)> _counts = [];
    private long _deliveries;

    public void Add(Guid producer, long samples)
    {
        var touched = ++_deliveries;
        if (_counts.TryGetValue(producer, out var d)) _counts[producer] = (d.Samples + samples, touched);
        else
        {
            // Linear, but only once Max publishers are counted, which a job's few publishers never reach.
            if (_counts.Count >= Max) _counts.Remove(_counts.MinBy(x => x.Value.Touched).Key);
            _counts[producer] = (samples, touched);
        }
    }

    /// <summary>What <paramref name="producer"/>'s batches delivered so far (0 for one not counted).</summary>
    public long Of(Guid producer) => _counts.TryGetValue(producer, out var d) ? d.Samples : 0;

    public void Clear() => _counts.Clear();
}
