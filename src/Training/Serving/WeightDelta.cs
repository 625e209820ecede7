using System.Runtime.InteropServices;
using System.Text;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;

namespace Freshet.Model.Serving;

/// <summary>
/// What one publish ships to serving (DESIGN.md section 4): the changing-tier rows changed since the
/// previous publish, fresh frozen-tier rows (ids new since the base checkpoint, under a budget), the
/// rate statistics that moved, the rows evicted since the previous publish, and both dense towers with their batch-norm statistics, taken under
/// the sync-send barrier. Its <see cref="Version"/> is its base checkpoint and its sequence on it, counted from 1.
/// </summary>
public sealed class WeightDelta
{
    private static readonly byte[] Magic = "FRSHDLTA"u8.ToArray();
    private static readonly byte[] EndMagic = "FRSHDEND"u8.ToArray();
    /// <summary>3: the shards' parts framed as they encoded them; 2: one merged body.</summary>
    private const ushort FormatVersion = 3;

    /// <summary>Bytes after the body: its length (int64), its SHA-256, and the end magic.</summary>
    private const int TrailerBytes = sizeof(long) + 32 + 8;

    /// <summary>Most bytes of one chunk (an Event Hubs event is at most 1 MB).</summary>
    public const int MaxChunkBytes = 900 * 1024;

    /// <summary>
    /// Most bytes of one encoded delta: what a replica reassembles or reads from the store, at most. A publish that
    /// would be larger fails at <see cref="Frame"/> (publish more often, or lower the fresh-row budget).
    /// </summary>
    public const int MaxBytes = 1 << 30;

    public required string Model { get; init; }

    /// <summary>The base checkpoint and this delta's sequence on it (from 1).</summary>
    public required WeightsVersion Version { get; init; }

    /// <summary>When the snapshot was taken under the barrier (UTC wall clock): the age of these weights starts here.</summary>
    public required DateTime SnapshotUtc { get; init; }

    /// <summary>Event time of the latest sample trained into the snapshot, if known.</summary>
    public DateTime? EventTime { get; init; }

    /// <summary>Rows per table (weights only): changing tables, and fresh rows of frozen tables.</summary>
    public IReadOnlyList<TableSnapshot> Tables { get; init; } = [];

    /// <summary>Counts per rate field that moved, with each rate's totals.</summary>
    public IReadOnlyList<TableSnapshot> Rates { get; init; } = [];

    public IReadOnlyList<DenseTowerWeights> Dense { get; init; } = [];

    /// <summary>Rows of tables and rates evicted on the trainer since the previous publish: serving removes them too.</summary>
    public IReadOnlyList<RemovedRows> Removed { get; init; } = [];

    /// <summary>
    /// A delta from the shards' parts (taken under one barrier) and the dense towers: each table's rows from
    /// every shard in one snapshot, each rate's counts with the totals of all shards summed
    /// (<see cref="Statistics.RateTable.MergeParts"/>), and every shard's removals.
    /// </summary>
    public static WeightDelta Assemble(string model, WeightsVersion version, DateTime snapshotUtc, DateTime? eventTime, IReadOnlyList<Cluster.ShardDeltaPart> parts, IReadOnlyList<DenseTowerWeights> dense) => new()
    {
        Model = model,
        Version = version,
        SnapshotUtc = snapshotUtc,
        EventTime = eventTime,
        Tables = [.. parts.SelectMany(p => p.Tables).GroupBy(t => t.Table).Select(g => Concatenate([.. g]))],
        Rates = [.. parts.SelectMany(p => p.Rates).GroupBy(r => r.Table).Select(g => Statistics.RateTable.MergeParts([.. g]))],
        Removed = [.. parts.SelectMany(p => p.Removed).GroupBy(r => r.Table).Select(g => new RemovedRows(g.Key, [.. g.SelectMany(r => r.Ids).Order()]))],
        Dense = dense,
    };

    /// <summary>One snapshot of a table from its shards' parts (disjoint ids), weights only.</summary>
    private static TableSnapshot Concatenate(IReadOnlyList<TableSnapshot> parts) => parts.Count == 1 ? parts[0] : new TableSnapshot(
        parts[0].Table, parts[0].Dim, 0, parts[0].Optimizer,
        [.. parts.SelectMany(p => p.Ids)], [.. parts.SelectMany(p => p.Weights)], [], [.. parts.SelectMany(p => p.LastSeen)], [.. parts.SelectMany(p => p.Steps)]);

    public long Rows => Tables.Sum(t => (long)t.Ids.Length);

    /// <summary>This delta as bytes: framed as one part (see <see cref="Frame"/>), the way a single-shard job publishes it.</summary>
    public byte[] Encode() =>
        Frame(Model, Version, SnapshotUtc, EventTime, [new Cluster.ShardDeltaPart(Tables, Rates, Removed, 0, 0, 0).Encode()], Dense);

    /// <summary>
    /// Encodes a delta once, from the parts its shards encoded (<see cref="Cluster.ShardDeltaPart.Encode"/>), copied
    /// as they are: a header (model, version, snapshot and event time), each part length-prefixed, the dense towers, and
    /// a trailer (length, SHA-256, end marker). Nothing is decoded or merged here; <see cref="Decode"/> merges the parts.
    /// </summary>
    public static byte[] Frame(string model, WeightsVersion version, DateTime snapshotUtc, DateTime? eventTime, IReadOnlyList<byte[]> parts, IReadOnlyList<DenseTowerWeights> dense)
    {
        // Exactly the bytes written: the delta goes out in the buffer it was written into (no copy of a large object).
        var header = Magic.Length + sizeof(ushort) + Checkpoints.ShardFile.PrefixedStringBytes(model) + 4 * sizeof(long) + 2 * sizeof(int);
        var capacity = header + parts.Sum(p => 4L + p.Length) + dense.Sum(d => 9L + (long)d.Parameters.Length * sizeof(float) + d.Buffers.Length) + TrailerBytes;
        if (capacity > MaxBytes)
        {
            throw new InvalidOperationException($"delta {model} {version}: {capacity} bytes, over the {MaxBytes} a replica takes; publish more often, or lower the fresh-row budget");
        }
        var buffer = new byte[capacity];
        using var ms = new MemoryStream(buffer);
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(model);
            w.Write(version.Checkpoint);
            w.Write(version.Delta);
            w.Write(snapshotUtc.Ticks);
            w.Write(eventTime?.Ticks ?? -1);
            w.Write(parts.Count);
            w.Write(dense.Count);
            foreach (var part in parts)
            {
                w.Write(part.Length);
                w.Write(part);
            }
            foreach (var d in dense)
            {
                w.Write((byte)d.Task);
                w.Write(d.Parameters.Length);
                w.Write(MemoryMarshal.AsBytes(d.Parameters.AsSpan()));
                w.Write(d.Buffers.Length);
                w.Write(d.Buffers);
            }
        }
        // The trailer lets a reader tell a whole delta from a truncated or damaged one (a retained file, reassembled chunks).
        var bodyLength = ms.Position;
        var digest = System.Security.Cryptography.SHA256.HashData(buffer.AsSpan(0, (int)bodyLength));
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(bodyLength);
            w.Write(digest);
            w.Write(EndMagic);
        }
        if (ms.Position != buffer.Length) throw new InvalidOperationException($"delta {model} {version}: wrote {ms.Position} bytes where {buffer.Length} were counted");
        return buffer;
    }

    /// <summary>Checks the trailer: the length and SHA-256 of the body; throws naming <paramref name="where"/> when they do not hold.</summary>
    public static void Verify(ReadOnlySpan<byte> data, string where)
    {
        if (data.Length < Magic.Length || !data[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{where}: not a Freshet weight delta (bad magic)");
        }
        if (data.Length < Magic.Length + TrailerBytes || !data[^EndMagic.Length..].SequenceEqual(EndMagic))
        {
            throw new InvalidDataException($"{where}: truncated ({data.Length} bytes and no end marker): the delta was cut short; it is not applied");
        }
        var declared = BitConverter.ToInt64(data[^TrailerBytes..]);
        var body = data.Length - TrailerBytes;
        if (declared != body)
        {
            throw new InvalidDataException($"{where}: the body has {body} bytes, the trailer says {declared}: the delta is damaged; it is not applied");
        }
        var expected = data.Slice(body + sizeof(long), 32);
        Span<byte> actual = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(data[..body], actual);
        if (!actual.SequenceEqual(expected))
        {
            throw new InvalidDataException($"{where}: fails its SHA-256 check (expected {Convert.ToHexStringLower(expected)}, found {Convert.ToHexStringLower(actual)}): the delta is corrupt; it is not applied");
        }
    }

    /// <summary>
    /// Reads a delta: checks its trailer, then its parts, merged into one snapshot per table (<see cref="Assemble"/>).
    /// Reads format 2 (one merged body, written by builds before parts were framed) too. Every count and length in it
    /// is checked against the bytes left before anything is allocated for it, so what a delta costs to read is bounded
    /// by its length, whatever it claims.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole, consistent delta: the message starts with
    /// <paramref name="where"/> and names what was wrong (the trailer, a count, a part, a table).</exception>
    public static WeightDelta Decode(byte[] data, string where = "weight delta")
    {
        if (data.Length > MaxBytes) throw new InvalidDataException($"{where}: {data.Length} bytes, over the {MaxBytes} a delta may have");
        Verify(data, where);
        using var ms = new MemoryStream(data, 0, data.Length - TrailerBytes);
        using var r = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{where}: not a Freshet weight delta (bad magic)");
            var format = r.ReadUInt16();
            if (format > FormatVersion) throw new InvalidDataException($"{where}: format {format} is newer than this build reads ({FormatVersion})");
            var model = r.ReadString();
            var version = new WeightsVersion(r.ReadInt64(), r.ReadInt64());
            var snapshot = Time(r.ReadInt64(), "snapshot time", where);
            var eventTicks = r.ReadInt64();
            DateTime? eventTime = eventTicks < 0 ? null : Time(eventTicks, "event time", where);
            if (format < 3)
            {
                var body = Cluster.ShardDeltaPart.Read(ms, r, where, denseBetween: out var legacyDense);
                return Assembled(model, version, snapshot, eventTime, [body], legacyDense, where);
            }
            var partCount = Cluster.ShardDeltaPart.Count(ms, r.ReadInt32(), sizeof(int), "parts", where);
            var denseCount = Cluster.ShardDeltaPart.Count(ms, r.ReadInt32(), 9, "dense towers", where);
            var parts = new List<Cluster.ShardDeltaPart>(partCount);
            for (var i = 0; i < partCount; i++)
            {
                var length = Cluster.ShardDeltaPart.Count(ms, r.ReadInt32(), 1, $"bytes in part {i}", where);
                var end = ms.Position + length;
                parts.Add(Cluster.ShardDeltaPart.Read(ms, r, $"{where}, part {i}"));
                if (ms.Position != end) throw new InvalidDataException($"{where}, part {i}: {length} bytes declared, {ms.Position - (end - length)} read");
            }
            var dense = ReadDense(ms, r, denseCount, where);
            if (ms.Position != ms.Length) throw new InvalidDataException($"{where}: {ms.Length - ms.Position} bytes after the dense towers, before the trailer");
            return Assembled(model, version, snapshot, eventTime, parts, dense, where);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            // BinaryReader's own refusals: the body ends inside a field, or a string length is not one.
            throw new InvalidDataException($"{where}: the body ends early or a field cannot be read ({e.Message})", e);
        }
    }

    private static DateTime Time(long ticks, string what, string where) =>
        ticks is >= 0 and <= 3_155_378_975_999_999_999 ? new DateTime(ticks, DateTimeKind.Utc) : throw new InvalidDataException($"{where}: the {what} is {ticks} ticks, not a time");

    /// <summary>The parts merged (<see cref="Assemble"/>), once they agree with each other: a table's rows of one width in every part.</summary>
    private static WeightDelta Assembled(string model, WeightsVersion version, DateTime snapshot, DateTime? eventTime, IReadOnlyList<Cluster.ShardDeltaPart> parts, IReadOnlyList<DenseTowerWeights> dense, string where)
    {
        foreach (var group in parts.SelectMany(p => p.Tables.Concat(p.Rates)).GroupBy(t => t.Table, StringComparer.Ordinal))
        {
            var first = group.First();
            if (group.Any(t => t.Dim != first.Dim || t.StateWidth != first.StateWidth || t.Optimizer != first.Optimizer))
            {
                throw new InvalidDataException($"{where}: the parts of table '{first.Table}' differ in width or optimizer");
            }
        }
        if (parts.SelectMany(p => p.Rates).FirstOrDefault(x => x.Dim != 2) is { } rate)
        {
            throw new InvalidDataException($"{where}: rate '{rate.Table}' has rows of {rate.Dim} values; a rate's rows hold 2 (positives, samples)");
        }
        if (parts.Any(p => p.Tables.Select(t => t.Table).Intersect(p.Rates.Select(x => x.Table), StringComparer.Ordinal).Any()))
        {
            throw new InvalidDataException($"{where}: a name is both a table and a rate");
        }
        try
        {
            return Assemble(model, version, snapshot, eventTime, parts, dense);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{where}: the parts do not merge ({e.Message})", e);
        }
    }

    internal static List<DenseTowerWeights> ReadDense(MemoryStream ms, BinaryReader r, int count, string where)
    {
        var dense = new List<DenseTowerWeights>(count);
        for (var i = 0; i < count; i++)
        {
            var task = r.ReadByte();
            if (task > (byte)TaskKind.Cvr) throw new InvalidDataException($"{where}, dense tower {i}: task {task} is not one (0 ctr, 1 cvr)");
            var parameters = new float[Cluster.ShardDeltaPart.Count(ms, r.ReadInt32(), sizeof(float), $"parameters in dense tower {i}", where)];
            ms.ReadExactly(MemoryMarshal.AsBytes(parameters.AsSpan()));
            var buffers = r.ReadBytes(Cluster.ShardDeltaPart.Count(ms, r.ReadInt32(), 1, $"buffer bytes in dense tower {i}", where));
            dense.Add(new DenseTowerWeights((TaskKind)task, parameters, buffers));
        }
        return dense;
    }

    /// <summary>Splits encoded bytes into chunks of at most <paramref name="maxBytes"/>.</summary>
    public static List<byte[]> Chunk(byte[] encoded, int maxBytes = MaxChunkBytes)
    {
        var chunks = new List<byte[]>();
        for (var at = 0; at < encoded.Length || chunks.Count == 0; at += maxBytes)
        {
            chunks.Add(encoded.AsSpan(at, Math.Min(maxBytes, encoded.Length - at)).ToArray());
        }
        return chunks;
    }
}
