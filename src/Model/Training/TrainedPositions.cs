using Freshet.Model.Data;

namespace Freshet.Model.Training;

/// <summary>
/// Per task and source, the position of the last numbered sample a trainer has trained and where its event is in the
/// source (<see cref="Sample.SourceOffset"/>): what a checkpoint records so that a restored job resumes after it. Written
/// by the training loop after each step, read by status calls: guarded by a lock (a few entries).
/// </summary>
internal sealed class TrainedPositions
{
    private readonly Dictionary<(TaskKind Task, string Source), (long Position, string? Offset)> _last = [];

    /// <summary>The last position trained from <paramref name="source"/> (null: the producer's own numbering) on <paramref name="task"/>'s stream; null: none yet.</summary>
    public long? Last(TaskKind task, string? source)
    {
        lock (_last) return _last.TryGetValue((task, source ?? ""), out var p) ? p.Position : null;
    }

    /// <summary>Every (task, source) with its last position and offset; source null: the producer's own numbering.</summary>
    public IReadOnlyList<(TaskKind Task, string? Source, long Position, string? Offset)> All()
    {
        lock (_last) return [.. _last.Select(kv => (kv.Key.Task, kv.Key.Source.Length == 0 ? null : kv.Key.Source, kv.Value.Position, kv.Value.Offset))];
    }

    /// <summary>After a step: the last position of each source among the step's numbered samples.</summary>
    public void Record(TaskKind task, List<Sample> buffer)
    {
        string? source = null;
        Sample? last = null;
        foreach (var s in buffer)
        {
            if (s.Position < 0) continue;
            var src = s.Source ?? "";
            if (last is not null && !ReferenceEquals(src, source) && src != source)
            {
                Keep(task, source!, last);
                last = null;
            }
            source = src;
            if (last is null || s.Position > last.Position) last = s;
        }
        if (last is not null) Keep(task, source!, last);
    }

    private void Keep(TaskKind task, string source, Sample s)
    {
        lock (_last)
        {
            if (!_last.TryGetValue((task, source), out var p) || s.Position > p.Position) _last[(task, source)] = (s.Position, s.SourceOffset);
        }
    }
}
