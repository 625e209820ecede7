using Freshet.Model.Data;
using Freshet.Model.Sequences;
using Freshet.Serving;

namespace Freshet.Grains.Serving;

/// <summary>
/// Sequence fields kept live by <see cref="ISequenceGrain"/>s: serving fills a row's sequences before scoring it, joiners
/// record what the loop reports. Replay's rules hold: a row sees the values its key recorded strictly before its time; a
/// click is recorded at its impression's time, an impression at its own, a conversion at its own (the later of the
/// reported conversion time and its click's).
/// </summary>
public static class LiveSequences
{
    /// <summary>A field's bounds as its grains take them.</summary>
    public static SequenceBounds Bounds(SequenceField field) => new(field.Length, field.ExpireTicks, field.MaxKeys);

    /// <summary>Sets each sequence bag of <paramref name="samples"/> to its key's values before the sample's time, and their ages: one call per shard a field's keys reach.</summary>
    public static async Task FillAsync(IGrainFactory grains, string model, IReadOnlyList<SequenceField> fields, IReadOnlyList<Sample> samples)
    {
        // Each sample its own ages, set before the calls (which fill them concurrently, a field each).
        foreach (var sample in samples) sample.Ages ??= SequenceTracker.EmptyAges(sample.Bags.Length);
        var calls = new List<Task>();
        foreach (var field in fields)
        {
            foreach (var shard in Enumerable.Range(0, samples.Count).GroupBy(i => SequenceShards.Of(samples[i].Ids[field.Key])))
            {
                var rows = shard.ToArray();
                calls.Add(ReadAsync(grains.Sequence(model, field.Name, shard.Key), field, rows, samples));
            }
        }
        await Task.WhenAll(calls);
    }

    private static async Task ReadAsync(ISequenceGrain grain, SequenceField field, int[] rows, IReadOnlyList<Sample> samples)
    {
        var read = await grain.ReadAsync(Bounds(field), [.. rows.Select(i => samples[i].Ids[field.Key])], [.. rows.Select(i => samples[i].Time)]);
        for (var j = 0; j < rows.Length; j++)
        {
            var sample = samples[rows[j]];
            sample.Bags[field.Bag] = read.Values[j];
            sample.Ages![field.Bag] = read.Ages[j];
        }
    }

    /// <summary>
    /// Records the <paramref name="events"/> the loop reported (served rows, each with the event time it is recorded at) for
    /// each field that keeps <paramref name="what"/>, reported at <paramref name="now"/>.
    /// </summary>
    public static async Task RecordAsync(IGrainFactory grains, string model, IReadOnlyList<SequenceField> fields, SequenceEvent what,
        IReadOnlyList<(Sample Sample, long At)> events, long now)
    {
        var calls = new List<Task>();
        foreach (var field in fields.Where(f => f.Event == what))
        {
            foreach (var shard in events.GroupBy(e => SequenceShards.Of(e.Sample.Ids[field.Key])))
            {
                foreach (var chunk in shard.Chunk(SequenceShards.MaxPerCall))
                {
                    calls.Add(grains.Sequence(model, field.Name, shard.Key)
                        .RecordAsync(Bounds(field), [.. chunk.Select(e => new SequenceRecord(e.Sample.Ids[field.Key], e.Sample.Ids[field.Value], e.At))], now));
                }
            }
        }
        await Task.WhenAll(calls);
    }
}
