using Freshet.Model.Data;
using Freshet.Model.Schema;

namespace Freshet.Model.Sequences;

/// <summary>
/// Fills the sequence fields of samples replayed in event-time order (<see cref="FieldKind.Sequence"/>): each sample's
/// sequence is the last <c>maxLength</c> values its key recorded strictly before the sample's time, oldest first, so no
/// sample sees its own event or a later one. Call <see cref="Fill"/> then <see cref="Record"/> for each sample in turn.
/// Bounded: at most <c>maxLength</c> events per key (plus as many not yet due, such as conversions whose time is
/// later), events older than <c>expireAfter</c> dropped, and at most <c>maxRows</c> keys, the least recently seen
/// evicted first.
/// </summary>
public sealed class SequenceTracker
{
    /// <summary>The most keys one sequence keeps when the schema gives no <c>maxRows</c>.</summary>
    public const long DefaultMaxKeys = 1_000_000;

    private readonly (SequenceField Field, SequenceBuffer Buffer)[] _sequences;
    private readonly TaskKind _firstTask;

    public SequenceTracker(FeatureSchema schema, FeatureLayout layout)
    {
        _firstTask = schema.HasClicks ? TaskKind.Ctr : TaskKind.Cvr;
        _sequences = [.. SequenceField.Of(layout).Select(f => (f, new SequenceBuffer(f.Length, f.ExpireTicks, f.MaxKeys)))];
    }

    /// <summary>Whether the layout has any sequence to fill.</summary>
    public bool Any => _sequences.Length > 0;

    /// <summary>Keys kept, over every sequence.</summary>
    public long Keys => _sequences.Sum(s => (long)s.Buffer.Keys);

    /// <summary>Keys evicted past a cap, over every sequence.</summary>
    public long Evicted => _sequences.Sum(s => s.Buffer.Evicted);

    private ulong[][]? _lastFilled;

    /// <summary>
    /// Sets each sequence bag of <paramref name="sample"/> to its key's events strictly before the sample's time, and their
    /// ages at it in <see cref="Sample.Ages"/>. The sample
    /// must own its <see cref="Sample.Bags"/> array: filled through an array another sample shares (a clicked impression's
    /// CTR and CVR samples), the first sample's sequence would change after its own label was recorded, and say it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sample shares its bags with the sample filled before it.</exception>
    public void Fill(Sample sample)
    {
        if (_sequences.Length == 0) return;
        if (ReferenceEquals(sample.Bags, _lastFilled)) throw new InvalidOperationException("two samples share one bags array: a sequence filled into it would rewrite the first sample's after its label was recorded");
        _lastFilled = sample.Bags;
        var ages = sample.Ages ??= EmptyAges(sample.Bags.Length);
        foreach (var (f, buffer) in _sequences) sample.Bags[f.Bag] = buffer.Before(sample.Ids[f.Key], sample.Time, out ages[f.Bag]);
    }

    /// <summary>A sample's ages with none known: one empty entry per bag.</summary>
    public static float[][] EmptyAges(int bags)
    {
        var ages = new float[bags][];
        Array.Fill(ages, []);
        return ages;
    }

    /// <summary>
    /// Records what <paramref name="sample"/> says happened, at the times the running counts take them (<see cref="LabelEvents"/>):
    /// an impression with its trial, a click or a conversion with its positive (a conversion at its own time).
    /// </summary>
    public void Record(Sample sample)
    {
        var (count, first, second) = LabelEvents.Of(sample);
        if (count > 0) RecordEvent(sample, first);
        if (count > 1) RecordEvent(sample, second);
    }

    private void RecordEvent(Sample sample, CountEvent e)
    {
        foreach (var (f, buffer) in _sequences)
        {
            if (f.Records(sample.Task, e, _firstTask)) buffer.Add(sample.Ids[f.Key], sample.Ids[f.Value], e.Time, sample.Time);
        }
    }
}
