using Freshet.Model.Checkpoints;
using Freshet.Model.Embeddings;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

/// <summary>Retained deltas appear whole or not at all, and a bad one is named and not applied.</summary>
public sealed class RetainedDeltaTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "freshet-deltas-" + Guid.NewGuid().ToString("N"));
    private readonly FeatureSchema _schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>Delta <paramref name="sequence"/> sets one category row to <paramref name="sequence"/> everywhere, and carries <paramref name="padding"/> more rows.</summary>
    private WeightDelta Delta(long version, long sequence, int padding = 0)
    {
        var dim = _schema.Fields.Single(f => f.Name == "category").Dim!.Value;
        var ids = new ulong[1 + padding];
        ids[0] = Hashing.IdHasher.Hash("c1");
        for (var i = 1; i < ids.Length; i++) ids[i] = (ulong)i;
        Array.Sort(ids);
        return new WeightDelta
        {
            Model = "m", Version = new WeightsVersion(version, sequence), SnapshotUtc = DateTime.UtcNow,
            Tables = [new TableSnapshot("category", dim, 0, SparseOptimizerKind.Adagrad, ids, Enumerable.Repeat((float)sequence, ids.Length * dim).ToArray(), [], new long[ids.Length], new int[ids.Length])],
        };
    }

    private async Task<(LocalCheckpointStore Store, long Version)> BaseAsync()
    {
        var store = new LocalCheckpointStore(_root);
        using var model = new InProcessParameterStore(_schema);
        var manifest = await ModelCheckpoint.SaveAsync(store, model, null, 0, "all", modelName: "m");
        return (store, manifest.Version);
    }

    [Fact]
    public async Task A_reader_never_sees_a_retained_delta_being_written()
    {
        var (store, version) = await BaseAsync();
        var deltas = Enumerable.Range(1, 12).Select(s => Delta(version, s, padding: 40_000).Encode()).ToList(); // about 1.5 MB each
        using var done = new CancellationTokenSource();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                foreach (var name in await store.ListFilesAsync("m", version, CheckpointFiles.DeltaPrefix))
                {
                    var delta = await ServingReplica.ReadDeltaAsync(store, "m", version, name, CancellationToken.None);
                    Assert.Equal(name, CheckpointFiles.Delta(delta.Version.Delta));
                    reads++;
                }
            }
        });
        for (var s = 0; s < deltas.Count; s++) await store.WriteAtomicAsync("m", version, CheckpointFiles.Delta(s + 1), deltas[s]);
        await done.CancelAsync();
        await reader;
        Assert.True(reads > 0);
        Assert.Equal(deltas.Count, (await store.ListFilesAsync("m", version, CheckpointFiles.DeltaPrefix)).Count);
        Assert.Empty(Directory.EnumerateFiles(store.VersionPath("m", version), "*.tmp"));
    }

    [Theory]
    [InlineData("corrupt", "fails its SHA-256 check")]
    [InlineData("truncated", "truncated")]
    public async Task A_bad_retained_delta_is_named_and_the_replica_serves_what_came_before_it(string damage, string says)
    {
        var (store, version) = await BaseAsync();
        for (var s = 1; s <= 3; s++) await store.WriteAtomicAsync("m", version, CheckpointFiles.Delta(s), Delta(version, s).Encode());
        var path = Path.Combine(store.VersionPath("m", version), CheckpointFiles.Delta(2));
        var bytes = await File.ReadAllBytesAsync(path);
        if (damage == "corrupt") bytes[bytes.Length / 2] ^= 0x5A;
        else bytes = bytes[..(bytes.Length - 20)];
        await File.WriteAllBytesAsync(path, bytes);

        using var replica = new ServingReplica(_schema, "m");
        await replica.LoadAsync(store, version);
        Assert.Equal(new WeightsVersion(version, 1), replica.Weights);
        var row = replica.Inspect(m => { var r = new float[8]; m.Tables[2].TryGetRow(Hashing.IdHasher.Hash("c1"), r); return r[0]; });
        Assert.Equal(1f, row);
        Assert.NotNull(replica.LastError);
        Assert.Contains($"retained delta m/{version:D10}/{CheckpointFiles.Delta(2)}", replica.LastError, StringComparison.Ordinal);
        Assert.Contains(says, replica.LastError, StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<CheckpointException>(() => ServingReplica.ReadDeltaAsync(store, "m", version, CheckpointFiles.Delta(2), CancellationToken.None));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }
}
