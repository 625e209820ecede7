using System.Text;
using CsCheck;
using Freshet.Model.Checkpoints;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;
using Freshet.Model.Towers;
using Xunit.Abstractions;

namespace Freshet.Model.Tests;

/// <summary>
/// The decoders of what lies on disk or in grain state, on random and mutated bytes: a checkpoint's manifest, its dense
/// file (read, then applied to a model), a dense grain's and a shard grain's state, the dense tier's pushes, pending
/// rate events and a schema. Each fails only with its own error and costs no more than its input's length allows.
/// </summary>
public class CheckpointPropertyTests(ITestOutputHelper output)
{
    private static readonly FeatureSchema Gradients = Schemas.Parse(Schemas.GradientCheck);

    internal static byte[][] ValidManifests()
    {
        ManifestFile File(string name, string kind, int? shard = null) => new()
        {
            Name = name, Kind = kind, Bytes = 1234, Sha256 = new string('a', 64), Table = shard is null ? null : "user", Shard = shard, Shards = shard is null ? null : 2, Rows = 10,
            Steps = new Dictionary<string, long> { ["job/0"] = 7 },
        };
        var full = new CheckpointManifest
        {
            Model = "shop", Version = 3, CreatedUtc = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), EventTime = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc), Samples = 99, Strategy = "all",
            Steps = new Dictionary<string, long> { ["job/0"] = 7 }, Positions = new Dictionary<string, long> { ["0/ctr"] = 5 }, Offsets = new Dictionary<string, string> { ["0/ctr@hub/0"] = "12" },
            Files = [File(CheckpointFiles.Shard("user", 0), "shard", 0), File(CheckpointFiles.Dense, "dense"), File(CheckpointFiles.Schema, "schema")],
        };
        return [full.ToJson(), (full with { Files = [], Steps = null, Positions = null, Offsets = null, EventTime = null }).ToJson()];
    }

    [Fact]
    public void Random_and_mutated_manifests_fail_with_a_checkpoint_error_and_cost_no_more_than_their_length()
    {
        foreach (var valid in ValidManifests()) Assert.Equal("shop", CheckpointManifest.Parse(valid, "manifest under test").Model);
        DecoderProperty.Holds<CheckpointException>(output, "CheckpointManifest.Parse", DecoderProperty.Payloads(ValidManifests()),
            bytes => CheckpointManifest.Parse(bytes, "manifest under test"), "manifest under test", 48, 64 * 1024);
    }

    [Fact]
    public void A_manifest_naming_a_file_outside_its_folder_is_refused()
    {
        var json = Encoding.UTF8.GetString(ValidManifests()[0]).Replace("\"user.0000.shard\"", "\"../../../outside.shard\"", StringComparison.Ordinal);
        var e = Assert.Throws<CheckpointException>(() => CheckpointManifest.Parse(Encoding.UTF8.GetBytes(json), "checkpoint shop/0000000003"));
        Assert.Contains("files[0].name: '../../../outside.shard' is not a checkpoint file's name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_named_like_a_path_never_leaves_the_local_stores_folder()
    {
        using var folder = new TempFolder();
        // A checkpoint beside the store's root, which "../outside" would reach.
        var outside = Path.Combine(folder.Path, "outside", "0000000001");
        Directory.CreateDirectory(outside);
        await System.IO.File.WriteAllBytesAsync(Path.Combine(outside, CheckpointFiles.Manifest), ValidManifests()[1]);
        var store = new LocalCheckpointStore(Path.Combine(folder.Path, "root"));
        var e = await Assert.ThrowsAsync<CheckpointException>(() => store.ListVersionsAsync("../outside"));
        Assert.Contains("model '../outside': the character '.' is not allowed", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<CheckpointException>(() => store.OpenReadAsync("shop", 1, "../../outside/0000000001/manifest.json"));
        await Assert.ThrowsAsync<CheckpointException>(() => store.DeleteVersionAsync("..", 1));
        Assert.True(Directory.Exists(outside));
    }

    private static byte[] DenseFileOf(DenseTier tier)
    {
        using var ms = new MemoryStream();
        DenseFile.Write(ms, tier.Model, tier.Optimizers);
        return ms.ToArray();
    }

    [Fact]
    public void Random_and_mutated_dense_files_fail_with_a_checkpoint_error_when_read_and_when_applied()
    {
        using var tier = new DenseTier(Gradients);
        using var target = new DenseTier(Gradients);
        var valid = DenseFileOf(tier);
        DenseFile.Apply(DenseFile.Read(new MemoryStream(valid), "dense under test"), target.Model, target.Optimizers, "dense under test");
        DecoderProperty.HoldsInto<DenseTier, CheckpointException>(output, "DenseFile.Read+Apply", DecoderProperty.Payloads([valid]), () => new DenseTier(Gradients),
            (into, bytes) => DenseFile.Apply(DenseFile.Read(new MemoryStream(bytes), "dense under test"), into.Model, into.Optimizers, "dense under test"),
            "dense under test", 16, 64 * 1024);
    }

    [Fact]
    public void Random_and_mutated_dense_grain_states_fail_with_an_invalid_data_error()
    {
        using var tier = new DenseTier(Gradients);
        var zero = new float[TowerCodec.ParameterCount(tier.Model.Ctr)];
        tier.Apply(TaskKind.Ctr, zero, tier.Read(TaskKind.Ctr).Buffers, 0.1, "job/0", 3);
        using var target = new DenseTier(Gradients);
        target.RestoreState(tier.SerializeState());
        DecoderProperty.HoldsInto<DenseTier, InvalidDataException>(output, "DenseTier.RestoreState", DecoderProperty.Payloads([tier.SerializeState()]), () => new DenseTier(Gradients),
            (into, bytes) => into.RestoreState(bytes), "dense state", 16, 64 * 1024);
    }

    [Fact]
    public void A_push_that_does_not_fit_the_tower_is_refused_before_anything_changes()
    {
        using var tier = new DenseTier(Gradients);
        var parameters = TowerCodec.ParameterCount(tier.Model.Ctr);
        var (weights, buffers, _) = tier.Read(TaskKind.Ctr);
        var sizes = Gen.Select(Gen.Int[-2, 2], Gen.Int[-9, 9], Gen.Int[-9, 9], Gen.Bool)
            .Where(s => s.Item1 != 0 || s.Item2 != 0 || (s.Item4 && s.Item3 != 0))
            .Select(s => (Gradients: new float[Math.Max(0, parameters + s.Item1)], Buffers: new byte[Math.Max(0, buffers.Length + s.Item2)], Base: s.Item4 ? new byte[Math.Max(0, buffers.Length + s.Item3)] : null));
        DecoderProperty.Holds<(float[] Gradients, byte[] Buffers, byte[]? Base), InvalidDataException>(output, "DenseTier.Apply (sizes)", sizes,
            p =>
            {
                tier.Apply(TaskKind.Ctr, p.Gradients, p.Buffers, 0.1, "job/0", 1, p.Base);
                throw new InvalidOperationException("a push of the wrong size was applied");
            },
            p => (p.Gradients.Length * 4L) + p.Buffers.Length + (p.Base?.Length ?? 0), "tower", 4, 64 * 1024);
        Assert.Equal(weights, tier.Read(TaskKind.Ctr).Parameters);
        Assert.Equal(buffers, tier.Read(TaskKind.Ctr).Buffers);
    }

    [Fact]
    public void Random_pending_rate_events_fail_with_an_invalid_data_error()
    {
        var valid = RateEventCodec.Write([(1, 638_000_000_000_000_000L, 1.0, 2.0), (2, 1, 0.0, 1.0)]);
        var count = 0;
        DecoderProperty.Holds<InvalidDataException>(output, "RateEventCodec.Read", DecoderProperty.Payloads([valid]),
            bytes => RateEventCodec.Read(bytes, (_, _, _, _) => count++), "pending rate events", 0, 4 * 1024);
    }

    internal static byte[] ShardStateWithRows(FeatureSchema schema)
    {
        var rows = new ShardRows(schema, 0, 1);
        var changing = rows.Tables.Select((t, i) => (t, i)).First(x => x.t.Tier == Tier.Changing);
        ulong[] ids = [3, 5, 8];
        rows.Pull(changing.i, ids, [1, 1, 1], new float[ids.Length * changing.t.Dim], train: true, now: 638_000_000_000_000_000);
        rows.RecordStep("job/0", 4);
        rows.SetLock("job-b", true);
        return rows.SerializeState();
    }

    [Fact]
    public void Random_and_mutated_shard_grain_states_fail_with_an_invalid_data_error_and_cost_no_more_than_their_length()
    {
        var schema = Schemas.Parse(Schemas.ClickCsv);
        var valid = ShardStateWithRows(schema);
        var restored = new ShardRows(schema, 0, 1);
        restored.RestoreState(valid);
        Assert.Equal(4, restored.Steps["job/0"]);
        // One shard per sampling thread, restored again and again (a restore replaces what it held).
        DecoderProperty.HoldsInto<ShardRows, InvalidDataException>(output, "ShardRows.RestoreState", DecoderProperty.Payloads([valid, new ShardRows(schema, 0, 1).SerializeState()]),
            () => new ShardRows(schema, 0, 1), (rows, bytes) => rows.RestoreState(bytes), "shard state", 16, 64 * 1024);
    }

    [Fact]
    public void A_file_read_for_one_shard_holds_exactly_that_shards_rows_as_a_whole_read_has_them()
    {
        Gen.Select(Gen.Int[0, 3000], Gen.Int[1, 40], Gen.Int[0, 3], Gen.Int[2, 5]).Sample((rows, dim, width, shards) =>
        {
            var random = new Random(rows * 31 + dim);
            ulong[] ids = [.. Enumerable.Range(0, rows).Select(_ => (ulong)random.NextInt64())];
            var snap = new Embeddings.TableSnapshot("user", dim, width, SparseOptimizerKind.Adagrad, ids,
                [.. Enumerable.Range(0, rows * dim).Select(i => i * 0.25f)], [.. Enumerable.Range(0, rows * width).Select(i => i * 0.5f)],
                [.. Enumerable.Range(0, rows).Select(i => (long)i * 7)], [.. Enumerable.Range(0, rows)]);
            using var ms = new MemoryStream();
            ShardFile.Write(ms, snap, 0, 1);
            var whole = ShardFile.Read(new MemoryStream(ms.ToArray()), "whole").Snapshot;
            for (var shard = 0; shard < shards; shard++)
            {
                bool Mine(ulong id) => ShardRouter.ShardOf(id, shards) == shard;
                var part = ShardFile.Read(new MemoryStream(ms.ToArray()), "part", Mine).Snapshot;
                var kept = Enumerable.Range(0, rows).Where(i => Mine(whole.Ids[i])).ToArray();
                Assert.Equal(kept.Select(i => whole.Ids[i]), part.Ids);
                Assert.Equal(kept.SelectMany(i => whole.Weights.Skip(i * dim).Take(dim)), part.Weights);
                Assert.Equal(kept.SelectMany(i => whole.State.Skip(i * width).Take(width)), part.State);
                Assert.Equal(kept.Select(i => whole.LastSeen[i]), part.LastSeen);
                Assert.Equal(kept.Select(i => whole.Steps[i]), part.Steps);
            }
            // Cut anywhere, a filtered read refuses the file as a whole read does.
            var cut = ms.ToArray()[..(int)(ms.Length * 3 / 4)];
            if (rows > 0) Assert.Throws<CheckpointException>(() => ShardFile.Read(new MemoryStream(cut), "cut", _ => true));
        }, iter: 60);
    }

    [Fact]
    public void A_weight_that_is_not_a_number_is_refused_where_rows_are_read()
    {
        // Found by the run of a million shard states: a NaN weight reached an FTRL table, whose import threw ArithmeticException.
        using var ms = new MemoryStream();
        ShardFile.Write(ms, new Embeddings.TableSnapshot("user", 2, 0, SparseOptimizerKind.Ftrl, [1, 2], [0.5f, 1f, float.NaN, 0f], [], [1, 2], [0, 0]), 0, 1, withState: false);
        var e = Assert.Throws<CheckpointException>(() => ShardFile.Read(new MemoryStream(ms.ToArray()), "shard under test"));
        Assert.Equal("shard under test: row 1 of table 'user' has a weight that is not a finite number", e.Message);
    }

    [Fact]
    public void Random_and_mutated_schemas_fail_with_a_schema_error()
    {
        var valid = new[] { Schemas.ClickCsv, Schemas.GradientCheck, System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "synthetic.json")) }
            .Select(Encoding.UTF8.GetBytes).ToArray();
        DecoderProperty.Holds<SchemaException>(output, "SchemaLoader.Parse", DecoderProperty.Payloads(valid),
            // The constant covers System.Text.Json warming its metadata for a path first met (about 1 MB once, seen in a run of a million).
            bytes => SchemaLoader.Parse(Encoding.UTF8.GetString(bytes), "schema under test"), "schema under test", 64, 2 * 1024 * 1024);
    }
}
