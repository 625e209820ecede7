using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;

namespace Freshet.Model.Cluster;

/// <summary>A shard's own state in grain storage: what it writes and reads back between activations.</summary>
public sealed partial class ShardRows
{
    /// <summary>The state kept in grain storage: bookkeeping, the changing tables and the rates (the frozen tier lives in checkpoints).</summary>
    public byte[] SerializeState()
    {
        using var ms = new MemoryStream();
        SerializeState(ms);
        return ms.ToArray();
    }

    /// <summary>As <see cref="SerializeState()"/>, into <paramref name="stream"/>: the changing tables straight from their rows, with no snapshot (within the shard's turn).</summary>
    public void SerializeState(Stream stream)
    {
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(StateMagic);
            w.Write(StateFormat);
            w.Write(BaseVersion ?? -1);
            w.Write(BaseModel ?? "");
            WriteMap(w, _steps);
            WriteMap(w, _dropped);
            w.Write(_locked.Count);
            foreach (var j in _locked.Order(StringComparer.Ordinal)) w.Write(j);
            w.Write(Tables.Count(t => t.Tier == Tier.Changing) + Rates.Count);
        }
        foreach (var t in Tables.Where(t => t.Tier == Tier.Changing)) ShardFile.Write(stream, t, Shard, Shards);
        foreach (var r in Rates) ShardFile.Write(stream, r.Export(), Shard, Shards, withState: false);
    }

    /// <summary>Puts back what <see cref="SerializeState"/> wrote (the shard grain's persisted state).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole shard state of this schema; the message starts with "shard state".</exception>
    public void RestoreState(byte[] state)
    {
        using var ms = new MemoryStream(state, writable: false);
        RestoreState(ms);
    }

    /// <summary>As <see cref="RestoreState(byte[])"/>, from a stream that can say its length (grain state read in chunks: no one array of the whole).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole shard state of this schema; the message starts with "shard state".</exception>
    public void RestoreState(Stream state)
    {
        try
        {
            Restore(state);
        }
        catch (Exception e) when (e is CheckpointException or IOException or FormatException or InvalidOperationException or ArithmeticException)
        {
            throw new InvalidDataException(e.Message.StartsWith("shard state", StringComparison.Ordinal) ? e.Message : $"shard state: {e.Message}", e);
        }
    }

    private void Restore(Stream ms)
    {
        int parts;
        using (var r = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true))
        {
            if (!r.ReadBytes(StateMagic.Length).AsSpan().SequenceEqual(StateMagic)) throw new InvalidDataException("shard state: bad magic");
            var format = r.ReadInt32();
            if (format > StateFormat) throw new InvalidDataException($"shard state format {format} is newer than this build reads");
            var baseVersion = r.ReadInt64();
            BaseVersion = baseVersion < 0 ? null : baseVersion;
            BaseModel = format >= 2 && r.ReadString() is { Length: > 0 } baseModel ? baseModel : null;
            ReadMap(r, _steps);
            ReadMap(r, _dropped);
            _locked.Clear();
            var locks = r.ReadInt32();
            if (locks < 0 || locks > ms.Length - ms.Position) throw new InvalidDataException($"shard state: {locks} locked jobs, with {ms.Length - ms.Position} bytes left");
            for (var i = 0; i < locks; i++) _locked.Add(r.ReadString());
            parts = r.ReadInt32();
            if (parts < 0 || parts > Tables.Count + Rates.Count) throw new InvalidDataException($"shard state: {parts} tables and rates; this shard has {Tables.Count + Rates.Count}");
        }
        for (var i = 0; i < parts; i++)
        {
            var (snap, _, _) = ShardFile.Read(ms, $"shard state, table {i}");
            Apply(snap, replace: true);
        }
    }
}
