namespace Freshet.Model.Data;

/// <summary>
/// Orders lines by (event time, line number) without holding the whole log: lines are sorted in
/// chunks, chunks beyond the first are spilled to temporary files, and the chunks are merged.
/// </summary>
public static class EventTimeSorter
{
    public readonly record struct TimedLine(long Time, long Line, string Text);

    /// <summary>Lines per in-memory chunk; the memory bound of a sort is about this many lines.</summary>
    public const int DefaultChunkLines = 1_000_000;

    public static IEnumerable<TimedLine> Sort(IEnumerable<TimedLine> lines, int chunkLines = DefaultChunkLines, CancellationToken cancellationToken = default)
    {
        var spills = new List<string>();
        var chunk = new List<TimedLine>();
        try
        {
            foreach (var l in lines)
            {
                chunk.Add(l);
                if (chunk.Count >= chunkLines)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    spills.Add(Spill(chunk));
                    chunk.Clear();
                }
            }
            chunk.Sort(Compare);
            if (spills.Count == 0)
            {
                foreach (var l in chunk) yield return l;
                yield break;
            }
            foreach (var l in Merge(spills, chunk, cancellationToken)) yield return l;
        }
        finally
        {
            foreach (var f in spills)
            {
                try { File.Delete(f); } catch (IOException) { }
            }
        }
    }

    private static int Compare(TimedLine a, TimedLine b)
    {
        var c = a.Time.CompareTo(b.Time);
        return c != 0 ? c : a.Line.CompareTo(b.Line);
    }

    private static string Spill(List<TimedLine> chunk)
    {
        chunk.Sort(Compare);
        var path = Path.Combine(Path.GetTempPath(), $"freshet-sort-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        using var w = new BinaryWriter(new BufferedStream(File.Create(path), 1 << 20));
        foreach (var l in chunk)
        {
            w.Write(l.Time);
            w.Write(l.Line);
            w.Write(l.Text);
        }
        return path;
    }

    private static IEnumerable<TimedLine> Merge(List<string> spills, List<TimedLine> memoryChunk, CancellationToken cancellationToken)
    {
        var readers = spills.Select(p => new BinaryReader(new BufferedStream(File.OpenRead(p), 1 << 20))).ToList();
        try
        {
            var queue = new PriorityQueue<int, TimedLine>(Comparer<TimedLine>.Create(Compare));
            var heads = new TimedLine[readers.Count + 1];
            var memoryIndex = 0;
            bool Next(int source)
            {
                if (source == readers.Count)
                {
                    if (memoryIndex >= memoryChunk.Count) return false;
                    heads[source] = memoryChunk[memoryIndex++];
                    return true;
                }
                var r = readers[source];
                if (r.BaseStream.Position >= r.BaseStream.Length) return false;
                heads[source] = new TimedLine(r.ReadInt64(), r.ReadInt64(), r.ReadString());
                return true;
            }
            for (var i = 0; i <= readers.Count; i++)
            {
                if (Next(i)) queue.Enqueue(i, heads[i]);
            }
            var n = 0;
            while (queue.TryDequeue(out var source, out var line))
            {
                if ((++n & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
                yield return line;
                if (Next(source)) queue.Enqueue(source, heads[source]);
            }
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }
}
