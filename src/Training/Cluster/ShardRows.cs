using Freshet.Model.Checkpoints;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Statistics;

namespace Freshet.Model.Cluster;

/// <summary>
/// The rows one shard holds: every table's and rate's rows whose id hashes to the shard, with the
/// shard's bookkeeping (frozen-tier locks per job, the last step of each trainer applied, refused
/// updates). No Orleans here: the shard grain wraps it, and tests check it against the model core.
/// </summary>
public sealed partial class ShardRows
{
    /// <summary>2: the model of <see cref="BaseVersion"/> follows it (1 had the version only, of this shard's own model).</summary>
    private const int StateFormat = 2;
    private static readonly byte[] StateMagic = "FRSHSTAT"u8.ToArray();
    private readonly Dictionary<string, long> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dropped = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _watermarks = new(StringComparer.Ordinal);
    private long _lastExpiry = long.MinValue;

    public ShardRows(FeatureSchema schema, int shard, int shards)
    {
        if (shards < 1 || shard < 0 || shard >= shards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), $"shard {shard} of {shards}");
        }
        Schema = schema;
        Shard = shard;
        Shards = shards;
        Layout = FeatureLayout.From(schema);
        // Serving follows a shard through deltas, which carry its evictions too.
        Tables = [.. Layout.Tables.Select(t => new EmbeddingTable(PerShard(t, shards), schema.Model) { TrackRemovals = true })];
        Rates = [.. Layout.RateFields.Select(r => new RateTable(r with { MaxRows = r.MaxRows is { } m ? Math.Max(1, m / shards) : null }) { TrackRemovals = true })];
    }

    public FeatureSchema Schema { get; }

    public FeatureLayout Layout { get; }

    public int Shard { get; }

    public int Shards { get; }

    public IReadOnlyList<EmbeddingTable> Tables { get; }

    public IReadOnlyList<RateTable> Rates { get; }

    /// <summary>The checkpoint version this shard last wrote or loaded (its recovery point for the frozen tier).</summary>
    public long? BaseVersion { get; set; }

    /// <summary>
    /// The model whose checkpoint <see cref="BaseVersion"/> is: this shard's own, or the one it was restored from (Model B
    /// starts from Model A's and never writes one of its own); null: this shard's own (state written before it was kept).
    /// </summary>
    public string? BaseModel { get; set; }

    public IReadOnlyDictionary<string, long> Steps => _steps;

    public IReadOnlyDictionary<string, long> DroppedFrozen => _dropped;

    public IReadOnlyCollection<string> LockedJobs => _locked;

    public bool Owns(ulong id) => ShardRouter.ShardOf(id, Shards) == Shard;

    public void Pull(int table, ReadOnlySpan<ulong> ids, ReadOnlySpan<int> occurrences, Span<float> rows, bool train, long now) =>
        Tables[table].Pull(ids, occurrences, rows, train, now);

    /// <summary>Applies row gradients; a job whose frozen tier is locked has its frozen-table updates dropped and counted.</summary>
    public (int Applied, int Dropped) Push(string job, int table, ReadOnlySpan<ulong> ids, ReadOnlySpan<float> gradients)
    {
        var t = Tables[table];
        if (t.Tier == Tier.Frozen && _locked.Contains(job))
        {
            _dropped[job] = _dropped.GetValueOrDefault(job) + ids.Length;
            return (0, ids.Length);
        }
        t.ApplyGradients(ids, gradients);
        return (ids.Length, 0);
    }

    /// <summary>
    /// The settled counts (positives, samples) of <paramref name="ids"/> in a rate, and their events not settled yet
    /// (position in <paramref name="ids"/>, time, positives, samples). The model's input is computed from them by the
    /// trainer, per sample, with the settled totals of every shard (<see cref="RateTotals"/>).
    /// </summary>
    public void RateCounts(int rate, ReadOnlySpan<ulong> ids, Span<double> settled, List<(int Position, long Time, double Positives, double Samples)> pending) =>
        Rates[rate].Read(ids, settled, pending);

    /// <summary>This shard's part of every rate's settled totals: positives and samples per rate, in layout order.</summary>
    public double[] RateTotals()
    {
        var totals = new double[2 * Rates.Count];
        for (var r = 0; r < Rates.Count; r++) (totals[2 * r], totals[2 * r + 1]) = Rates[r].Totals;
        return totals;
    }

    /// <summary>Counts a step's events of a rate, each from its own time.</summary>
    public void AddRateEvents(int rate, ReadOnlySpan<ulong> ids, ReadOnlySpan<long> times, ReadOnlySpan<double> positives, ReadOnlySpan<double> samples)
    {
        for (var i = 0; i < ids.Length; i++) Rates[rate].Add(ids[i], positives[i], samples[i], times[i]);
    }

    /// <summary>
    /// Records how far a trainer has scored (<paramref name="watermark"/>) and settles every rate's events before the
    /// lowest watermark of the trainers that push here (a trainer a day behind the others no longer holds them back).
    /// </summary>
    public void Settle(string trainer, long watermark)
    {
        _watermarks[trainer] = watermark;
        var newest = _watermarks.Values.Max();
        var low = _watermarks.Values.Where(w => w >= newest - TimeSpan.TicksPerDay || newest == long.MaxValue).Min();
        foreach (var r in Rates) r.Settle(low);
    }

    public void RecordStep(string trainer, long step)
    {
        if (step > _steps.GetValueOrDefault(trainer)) _steps[trainer] = step;
    }

    public void SetLock(string job, bool locked)
    {
        if (locked) _locked.Add(job);
        else _locked.Remove(job);
    }

    /// <summary>
    /// Takes this shard's part of a delta: every changing-tier row and rate count changed since the last
    /// take, each rate's totals, the rows evicted since, and up to <paramref name="freshBudget"/> changed frozen
    /// rows whose ids are new since the base checkpoint (the rest stay pending for the next take; established
    /// frozen rows wait for a checkpoint).
    /// </summary>
    public ShardDeltaPart TakeDelta(int freshBudget)
    {
        var tables = new List<TableSnapshot>();
        var removed = new List<RemovedRows>();
        int changing = 0, fresh = 0, pending = 0;
        var budget = Math.Max(0, freshBudget);
        foreach (var t in Tables)
        {
            var gone = t.TakeRemoved();
            if (gone.Length > 0) removed.Add(new RemovedRows(t.Name, gone));
            var changed = t.TakeChanged();
            if (t.Tier == Tier.Changing)
            {
                if (changed.Length == 0) continue;
                tables.Add(t.Export(changed));
                changing += changed.Length;
                continue;
            }
            var newIds = changed.Where(t.CreatedSinceBaseContains).ToArray();
            var take = newIds.Take(budget).ToArray();
            budget -= take.Length;
            t.ReturnChanged(newIds.Skip(take.Length));
            pending += newIds.Length - take.Length;
            if (take.Length == 0) continue;
            tables.Add(t.Export(take));
            fresh += take.Length;
        }
        // Every rate, changed rows or not: its totals are this shard's part of the global totals serving sums.
        var rates = new List<TableSnapshot>();
        foreach (var r in Rates)
        {
            var gone = r.TakeRemoved();
            if (gone.Length > 0) removed.Add(new RemovedRows(r.Name, gone));
            rates.Add(r.Export(r.TakeChanged()));
        }
        return new ShardDeltaPart(tables, rates, removed, changing, fresh, pending);
    }

    /// <summary>Evicts expired rows at most once an hour of event time; returns how many went.</summary>
    public long ExpireIfDue(long now)
    {
        if (now - _lastExpiry < TimeSpan.TicksPerHour) return 0;
        var first = _lastExpiry == long.MinValue;
        _lastExpiry = now;
        return first ? 0 : Tables.Sum(t => (long)t.Expire(now)) + Rates.Sum(r => (long)r.Expire(now));
    }

    /// <summary>
    /// Writes this shard's files (every table and rate) into checkpoint <paramref name="version"/>. With
    /// <paramref name="rebase"/> (serving is told to switch to it) the version becomes the base of the next deltas and the
    /// change sets start afresh; without (a job's own checkpoint, serving stays where it is) they are kept, so the next
    /// delta on serving's base still carries every row changed since that base.
    /// </summary>
    public async Task<IReadOnlyList<ManifestFile>> WriteCheckpointAsync(ICheckpointStore store, string model, long version, bool rebase = true, CancellationToken cancellationToken = default)
    {
        var files = new List<ManifestFile>();
        var steps = new Dictionary<string, long>(_steps, StringComparer.Ordinal);
        foreach (var t in Tables)
        {
            var f = await CheckpointWriter.WriteFileAsync(store, model, version, CheckpointFiles.Shard(t.Name, Shard), "shard", s => ShardFile.Write(s, t, Shard, Shards), cancellationToken);
            files.Add(f with { Table = t.Name, Shard = Shard, Shards = Shards, Rows = t.Count, Steps = steps });
        }
        foreach (var r in Rates)
        {
            // A checkpoint holds settled counts only (taken under the barrier): this shard settles too, so it and every
            // model loaded from the checkpoint agree.
            r.Settle(long.MaxValue);
            var snap = r.Export();
            var f = await CheckpointWriter.WriteFileAsync(store, model, version, CheckpointFiles.Statistics(r.Name, Shard), "stats", s => ShardFile.Write(s, snap, Shard, Shards, withState: false), cancellationToken);
            files.Add(f with { Table = r.Name, Shard = Shard, Shards = Shards, Rows = snap.Ids.Length, Steps = steps });
        }
        BaseVersion = version;
        BaseModel = model;
        if (rebase) MarkBase();
        return files;
    }

    /// <summary>
    /// Loads this shard's part of a checkpoint: the frozen tables only, or every table and rate.
    /// The files read are verified as they are parsed, and nothing changes unless all of them are good.
    /// A checkpoint written with another shard count is re-split by id.
    /// </summary>
    public async Task<long> LoadCheckpointAsync(ICheckpointStore store, string model, long? version, bool frozenOnly, CancellationToken cancellationToken = default)
    {
        var reader = await CheckpointReader.OpenAsync(store, model, version, cancellationToken, verify: false);
        var wanted = new HashSet<string>(Tables.Where(t => !frozenOnly || t.Tier == Tier.Frozen).Select(t => t.Name), StringComparer.Ordinal);
        if (!frozenOnly) wanted.UnionWith(Rates.Select(r => r.Name));
        var files = reader.Manifest.Files
            .Where(f => f.Kind is "shard" or "stats" && f.Table is not null && wanted.Contains(f.Table))
            .Where(f => f.Shards != Shards || f.Shard == Shard)
            .ToList();
        var snapshots = new List<TableSnapshot>();
        foreach (var f in files)
        {
            // Hashed while parsed (one read); nothing changes below until every file has passed.
            // A file split another way: only this shard's rows are kept as it is read.
            Func<ulong, bool>? keep = f.Kind == "shard" && f.Shards != Shards ? Owns : null;
            snapshots.Add(await reader.ReadVerifiedAsync(f, s => ShardFile.Read(s, reader.Describe(f), keep).Snapshot, cancellationToken));
        }
        foreach (var name in wanted)
        {
            var parts = snapshots.Where(p => p.Table == name).ToList();
            var table = Tables.FirstOrDefault(t => t.Name == name);
            if (table is not null)
            {
                if (parts.Count == 1 && files.Count(f => f.Kind == "shard" && f.Table == name) == 1)
                {
                    // This shard's own file, or one split another way read for this shard's rows only: every row is its own,
                    // and the snapshot was read for it alone.
                    table.Adopt(parts[0]);
                }
                else
                {
                    table.Import(new TableSnapshot(name, table.Dim, table.StateWidth, table.Optimizer.Kind, [], [], [], [], []), null, replace: true);
                    foreach (var p in parts) table.Import(p, Owns, replace: false);
                }
            }
            var rate = Rates.FirstOrDefault(r => r.Name == name);
            if (rate is not null)
            {
                var sameSplit = files.Where(f => f.Kind == "stats" && f.Table == name).All(f => f.Shards == Shards);
                rate.Import(MergeRates(parts, keepTotals: sameSplit || Shard == 0));
            }
        }
        BaseVersion = reader.Manifest.Version;
        BaseModel = model;
        MarkBase();
        return reader.Manifest.Version;
    }

    /// <summary>A new base checkpoint: nothing is new or changed relative to it.</summary>
    private void MarkBase()
    {
        foreach (var t in Tables) t.MarkBase();
        foreach (var r in Rates) r.MarkBase();
    }

    private void Apply(TableSnapshot snap, bool replace)
    {
        var table = Tables.FirstOrDefault(t => t.Name == snap.Table);
        if (table is not null)
        {
            table.Import(snap, null, replace);
            return;
        }
        Rates.FirstOrDefault(r => r.Name == snap.Table)?.Import(snap);
    }

    /// <summary>
    /// Rate rows of this shard from one or more files. Totals are summed over the parts read: a checkpoint of
    /// the same shard count gives each shard its own part; one re-split from another count gives all of it to
    /// shard 0 (<paramref name="keepTotals"/>) and none to the others, so the shards' parts still add up to the whole.
    /// </summary>
    private TableSnapshot MergeRates(List<TableSnapshot> parts, bool keepTotals)
    {
        var ids = new List<ulong>();
        var weights = new List<float>();
        var seen = new List<long>();
        float totalPositives = 0, totalSamples = 0;
        foreach (var p in parts)
        {
            for (var i = 0; i < p.Ids.Length; i++)
            {
                if (p.Ids[i] == RateTable.TotalsId && i == p.Ids.Length - 1)
                {
                    totalPositives += p.Weights[2 * i];
                    totalSamples += p.Weights[2 * i + 1];
                    continue;
                }
                if (!Owns(p.Ids[i])) continue;
                ids.Add(p.Ids[i]);
                weights.Add(p.Weights[2 * i]);
                weights.Add(p.Weights[2 * i + 1]);
                seen.Add(p.LastSeen[i]);
            }
        }
        ids.Add(RateTable.TotalsId);
        weights.Add(keepTotals ? totalPositives : 0);
        weights.Add(keepTotals ? totalSamples : 0);
        seen.Add(0);
        return new TableSnapshot(parts.Count > 0 ? parts[0].Table : "", 2, 0, SparseOptimizerKind.Adagrad, [.. ids], [.. weights], [], [.. seen], new int[ids.Count]);
    }

    private static TableSpec PerShard(TableSpec t, int shards) => t with { MaxRows = t.MaxRows is { } m ? Math.Max(1, m / shards) : null };

    private static void WriteMap(BinaryWriter w, Dictionary<string, long> map)
    {
        w.Write(map.Count);
        foreach (var (k, v) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.Write(k);
            w.Write(v);
        }
    }

    private static void ReadMap(BinaryReader r, Dictionary<string, long> map)
    {
        map.Clear();
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++) map[r.ReadString()] = r.ReadInt64();
    }
}
