using Freshet.Model.Embeddings;
using Freshet.Model.Schema;

namespace Freshet.Model.Tests;

public class EmbeddingTableTests
{
    private static EmbeddingTable Table(int dim = 3, int minCount = 1, TimeSpan? expire = null, long? maxRows = null, SparseOptimizerKind opt = SparseOptimizerKind.Adagrad, ModelSpec? spec = null) =>
        new(new TableSpec("t", dim, Tier.Frozen, minCount, expire, maxRows, opt, 0.1f), spec ?? new ModelSpec());

    [Fact]
    public void Every_id_gets_its_own_row_no_matter_how_many()
    {
        var t = Table();
        var ids = Enumerable.Range(0, 50_000).Select(i => (ulong)i * 7919).ToArray();
        var rows = new float[ids.Length * 3];
        t.Pull(ids, default, rows, create: true, now: 1);
        Assert.Equal(ids.Length, t.Count);
        // Rows are seeded by (table, id): distinct ids, distinct rows; the same id, the same row again.
        Assert.Equal(ids.Length, Enumerable.Range(0, ids.Length).Select(i => (rows[3 * i], rows[3 * i + 1], rows[3 * i + 2])).Distinct().Count());
        var again = new float[3];
        t.Pull([ids[123]], default, again, create: true, now: 2);
        Assert.Equal(rows.AsSpan(3 * 123, 3).ToArray(), again);
        Assert.Equal(ids.Length, t.Count);
    }

    [Fact]
    public void A_table_written_in_slot_order_after_evictions_and_reused_slots_reads_back_row_for_row()
    {
        // Rows made at times 1..4, the oldest expired (their slots freed), then new rows take freed slots and new ones.
        var t = Table(dim: 3, expire: TimeSpan.FromTicks(10));
        var random = new Random(3);
        for (var round = 1; round <= 4; round++)
        {
            var ids = Enumerable.Range(0, 500).Select(_ => (ulong)random.Next(1, 3000)).Distinct().ToArray();
            t.Pull(ids, default, new float[ids.Length * 3], create: true, now: round * 10);
        }
        Assert.True(t.Expire(45) > 0);
        var fresh = Enumerable.Range(5000, 700).Select(i => (ulong)i).ToArray();
        t.Pull(fresh, default, new float[fresh.Length * 3], create: true, now: 50);
        var expected = t.Export();

        using var file = new MemoryStream();
        Assert.Equal(t.Count, Freshet.Model.Checkpoints.ShardFile.Write(file, t, 0, 1));
        var read = Freshet.Model.Checkpoints.ShardFile.Read(new MemoryStream(file.ToArray()), "table under test").Snapshot;
        Assert.Equal(expected.Ids.Order(), read.Ids.Order());
        var at = read.Ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        for (var i = 0; i < expected.Ids.Length; i++)
        {
            var j = at[expected.Ids[i]];
            Assert.Equal(expected.Weights.AsSpan(3 * i, 3).ToArray(), read.Weights.AsSpan(3 * j, 3).ToArray());
            Assert.Equal(expected.State.AsSpan(i * expected.StateWidth, expected.StateWidth).ToArray(), read.State.AsSpan(j * read.StateWidth, read.StateWidth).ToArray());
            Assert.Equal((expected.LastSeen[i], expected.Steps[i]), (read.LastSeen[j], read.Steps[j]));
        }
    }

    [Fact]
    public void A_row_is_initialised_the_same_in_every_store()
    {
        var a = new float[4];
        var b = new float[4];
        Table(4).Pull([42UL], default, a, true, 0);
        Table(4).Pull([42UL], default, b, true, 0);
        Assert.Equal(a, b);
        var scale = new ModelSpec().InitScale;
        Assert.All(a, v => Assert.InRange(v, -scale, scale));
        Assert.Contains(a, v => v != 0);
    }

    [Fact]
    public void Reading_without_create_gives_zeros_and_makes_no_row()
    {
        var t = Table();
        var row = new float[] { 9, 9, 9 };
        t.Pull([5UL], default, row, create: false, now: 0);
        Assert.Equal([0f, 0, 0], row);
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Adagrad_step_matches_hand_computation()
    {
        var t = Table(2, spec: new ModelSpec { AdagradInitialAccumulator = 0.1f });
        var w0 = new float[2];
        t.Pull([1UL], default, w0, true, 0);
        t.ApplyGradients([1UL], [0.5f, -2f]);
        var w1 = new float[2];
        t.TryGetRow(1, w1);
        Assert.Equal(w0[0] - 0.1f * 0.5f / MathF.Sqrt(0.1f + 0.25f), w1[0], 6);
        Assert.Equal(w0[1] + 0.1f * 2f / MathF.Sqrt(0.1f + 4f), w1[1], 6);
    }

    [Fact]
    public void Ftrl_starts_from_the_row_and_moves_against_the_gradient()
    {
        var t = Table(2, opt: SparseOptimizerKind.Ftrl, spec: new ModelSpec { InitScale = 0.5f });
        var w0 = new float[2];
        t.Pull([9UL], default, w0, true, 0);
        t.ApplyGradients([9UL], [0f, 0f]);
        var same = new float[2];
        t.TryGetRow(9, same);
        Assert.Equal(w0[0], same[0], 5); // a zero gradient leaves the closed-form weight where it started
        Assert.Equal(w0[1], same[1], 5);
        t.ApplyGradients([9UL], [1f, -1f]);
        var w2 = new float[2];
        t.TryGetRow(9, w2);
        Assert.True(w2[0] < w0[0]);
        Assert.True(w2[1] > w0[1]);
    }

    [Fact]
    public void Adam_first_step_moves_each_weight_by_the_learning_rate()
    {
        var t = Table(2, opt: SparseOptimizerKind.Adam);
        var w0 = new float[2];
        t.Pull([3UL], default, w0, true, 0);
        t.ApplyGradients([3UL], [0.3f, -7f]);
        var w1 = new float[2];
        t.TryGetRow(3, w1);
        Assert.Equal(w0[0] - 0.1f, w1[0], 4);
        Assert.Equal(w0[1] + 0.1f, w1[1], 4);
    }

    [Fact]
    public void Admission_forgets_ids_seen_once_on_a_long_high_cardinality_stream()
    {
        const long cap = 100_000;
        var t = Table(minCount: 2, maxRows: cap);
        var row = new float[3];
        var start = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        // Ten times the cap in distinct ids, each once, over a few hours of event time.
        const int n = 10 * (int)cap;
        for (var i = 0; i < n; i++) t.Pull([(ulong)i + 1], [1], row, create: true, now: start + i * TimeSpan.TicksPerMillisecond * 10);
        Assert.True(t.Count < cap / 100, $"{t.Count} of {n} ids seen once were admitted");
        // Ids seen the minimum count are admitted all the same.
        var now = start + n * TimeSpan.TicksPerMillisecond * 10;
        for (var i = 0; i < 1000; i++)
        {
            var id = (ulong)(n + 1 + i);
            t.Pull([id], [1], row, create: true, now: now);
            t.Pull([id], [1], row, create: true, now: now);
            Assert.True(t.Contains(id), $"id {id} seen twice is not admitted");
        }
    }

    [Fact]
    public void Admission_counts_occurrences_within_about_a_period_of_event_time()
    {
        var t = Table(minCount: 2, expire: TimeSpan.FromHours(1));
        var row = new float[3];
        var start = new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        t.Pull([5UL], [1], row, create: true, now: start);
        t.Pull([6UL], [1], row, create: true, now: start);
        // Seen again within the period (the expiry): admitted; seen again two periods later: counted afresh.
        t.Pull([5UL], [1], row, create: true, now: start + TimeSpan.FromMinutes(50).Ticks);
        Assert.True(t.Contains(5UL));
        t.Pull([6UL], [1], row, create: true, now: start + TimeSpan.FromHours(3).Ticks);
        Assert.False(t.Contains(6UL));
    }

    [Fact]
    public void Admission_filter_creates_a_row_only_at_the_minimum_count()
    {
        var t = Table(minCount: 3);
        var row = new float[3];
        t.Pull([77UL], [1], row, true, 0);
        t.Pull([77UL], [1], row, true, 1);
        Assert.False(t.Contains(77));
        Assert.Equal([0f, 0, 0], row);
        t.ApplyGradients([77UL], [1f, 1f, 1f]); // gradients of a row not admitted are dropped
        Assert.False(t.Contains(77));
        t.Pull([77UL], [1], row, true, 2);
        Assert.True(t.Contains(77));
        Assert.Equal(2, t.NotAdmitted);
    }

    [Fact]
    public void Expiry_removes_rows_not_seen_for_the_expiry_time()
    {
        var t = Table(expire: TimeSpan.FromHours(1));
        var rows = new float[6];
        t.Pull([1UL, 2UL], default, rows, true, 0);
        t.Pull([2UL], default, rows.AsSpan(0, 3), true, TimeSpan.FromMinutes(50).Ticks);
        Assert.Equal(1, t.Expire(TimeSpan.FromMinutes(70).Ticks));
        Assert.False(t.Contains(1));
        Assert.True(t.Contains(2));
        Assert.Equal(1, t.Evicted);
    }

    [Fact]
    public void Row_cap_evicts_the_least_recently_seen()
    {
        var t = Table(maxRows: 10);
        var row = new float[3];
        for (var i = 0; i < 10; i++) t.Pull([(ulong)i], default, row, true, i);
        t.Pull([100UL], default, row, true, 100);
        Assert.True(t.Count <= 10);
        Assert.False(t.Contains(0)); // seen first, evicted first
        Assert.True(t.Contains(9));
        Assert.True(t.Contains(100));
        for (var i = 0; i < 1000; i++) t.Pull([(ulong)(1000 + i)], default, row, true, 200 + i);
        Assert.True(t.Count <= 10);
    }

    [Fact]
    public void Bytes_per_row_count_weights_state_and_bookkeeping()
    {
        Assert.Equal((16 + 16) * 4 + 8 + 4 + 8 + 24, Table(16).BytesPerRow);
        Assert.Equal((16 + 32) * 4 + 8 + 4 + 8 + 24, Table(16, opt: SparseOptimizerKind.Adam).BytesPerRow);
    }

    [Fact]
    public void Export_then_import_restores_rows_and_optimizer_state()
    {
        var a = Table();
        var rows = new float[9];
        a.Pull([5UL, 1UL, 3UL], default, rows, true, 7);
        a.ApplyGradients([5UL, 1UL, 3UL], [1f, 2, 3, 4, 5, 6, 7, 8, 9]);
        var snap = a.Export();
        Assert.Equal([1UL, 3UL, 5UL], snap.Ids);
        var b = Table();
        b.Import(snap);
        a.ApplyGradients([3UL], [1f, 1, 1]);
        b.ApplyGradients([3UL], [1f, 1, 1]);
        var ra = new float[3];
        var rb = new float[3];
        a.TryGetRow(3, ra);
        b.TryGetRow(3, rb);
        Assert.Equal(ra, rb);
    }
    [Fact]
    public void A_table_written_straight_to_a_shard_file_equals_its_snapshot_written_and_an_adopted_snapshot_equals_an_imported_one()
    {
        var t = Table(4);
        var ids = Enumerable.Range(0, 5000).Select(i => (ulong)i * 104729 + 3).ToArray();
        var rows = new float[ids.Length * 4];
        t.Pull(ids, default, rows, create: true, now: 5);
        var grads = Enumerable.Range(0, rows.Length).Select(i => (i % 7 - 3) * 0.01f).ToArray();
        t.ApplyGradients(ids, grads);
        t.Delete(ids.Take(100).ToArray()); // free slots: the slot order is no longer the insertion order

        using var streamed = new MemoryStream();
        Assert.Equal(t.Count, Freshet.Model.Checkpoints.ShardFile.Write(streamed, t, 1, 3));
        using var snapshotted = new MemoryStream();
        Freshet.Model.Checkpoints.ShardFile.Write(snapshotted, t.Export(), 1, 3);
        Assert.Equal(snapshotted.ToArray(), streamed.ToArray());

        var imported = Table(4);
        imported.Import(t.Export());
        var adopted = Table(4);
        adopted.Adopt(t.Export());
        Assert.Equal(imported.Count, adopted.Count);
        var a = new float[ids.Length * 4];
        var b = new float[ids.Length * 4];
        imported.Pull(ids, default, a, create: false, now: 6);
        adopted.Pull(ids, default, b, create: false, now: 6);
        Assert.Equal(a, b);
        // An adopted table keeps growing like any other: new rows get their own slots, old rows stay.
        var more = Enumerable.Range(0, 3000).Select(i => (ulong)i * 7 + 1_000_000_007UL).ToArray();
        adopted.Pull(more, default, new float[more.Length * 4], create: true, now: 7);
        Assert.Equal(imported.Count + more.Length, adopted.Count);
        adopted.Pull(ids, default, b, create: false, now: 8);
        Assert.Equal(a, b);
    }
}
