using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;

namespace Freshet.Model.Tests;

public class CheckpointTests
{
    private static FeatureSchema Synthetic()
    {
        var s = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        s.Model.Hidden = [16, 8];
        return s;
    }

    private static async Task<(InProcessParameterStore Store, List<Sample> Held)> TrainedAsync(FeatureSchema schema, int samples = 6000)
    {
        var all = SampleReader.Open(schema, SampleReader.SyntheticData).Read(samples + 600).ToList();
        var store = new InProcessParameterStore(schema);
        await new StreamingTrainer(schema, store, new TrainerOptions()).ReplayAsync(all.Take(samples));
        return (store, all.Skip(samples).Where(s => s.Task == TaskKind.Ctr).Take(200).ToList());
    }

    private static async Task<float[]> ScoreAsync(IParameterStore store, List<Sample> batch)
    {
        var scores = new float[batch.Count];
        await new TrainingStep(store, Strategy.Base).ScoreAsync(batch, TaskKind.Ctr, scores);
        return scores;
    }

    /// <summary>
    /// Weights are compared bit for bit elsewhere; predictions from identical weights can still differ
    /// in the last bit, because the CPU kernels pick code paths by memory alignment.
    /// </summary>
    private static void AssertSamePredictions(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
    }

    [Fact]
    public async Task A_saved_model_reloads_and_predicts_identically()
    {
        using var dir = new TempFolder();
        var schema = Synthetic();
        var (trained, held) = await TrainedAsync(schema);
        using (trained)
        {
            var store = new LocalCheckpointStore(dir.Path);
            var manifest = await ModelCheckpoint.SaveAsync(store, trained, DateTime.UtcNow, 6000, "all");
            Assert.Equal(1, manifest.Version);
            Assert.Contains(manifest.Files, f => f.Kind == "dense");
            Assert.Equal(trained.Tables.Count, manifest.Files.Count(f => f.Kind == "shard"));
            Assert.True(File.Exists(Path.Combine(store.VersionPath("synthetic", 1), CheckpointFiles.Manifest)));

            using var restored = new InProcessParameterStore(schema);
            var loaded = await ModelCheckpoint.LoadAsync(store, restored);
            Assert.Equal(1, loaded.Version);
            AssertSamePredictions(await ScoreAsync(trained, held), await ScoreAsync(restored, held));
            Assert.Equal(await trained.CountRowsAsync(), await restored.CountRowsAsync());
            var a = trained.Tables[0].Export();
            var b = restored.Tables[0].Export();
            Assert.Equal(a.Ids, b.Ids);
            Assert.Equal(a.Weights, b.Weights);
            Assert.Equal(a.State, b.State);
        }
    }

    [Fact]
    public async Task A_corrupt_file_fails_the_load_by_name_and_leaves_the_model_as_it_was()
    {
        using var dir = new TempFolder();
        var schema = Synthetic();
        var (trained, held) = await TrainedAsync(schema, 3000);
        using (trained)
        {
            var store = new LocalCheckpointStore(dir.Path);
            await ModelCheckpoint.SaveAsync(store, trained, null, 3000, "all");
            await ModelCheckpoint.SaveAsync(store, trained, null, 3000, "all");
            var shard = Path.Combine(store.VersionPath("synthetic", 2), CheckpointFiles.Shard("item", 0));
            var bytes = File.ReadAllBytes(shard);
            bytes[bytes.Length / 2] ^= 0x5A;
            File.WriteAllBytes(shard, bytes);

            using var target = new InProcessParameterStore(schema);
            var before = await ScoreAsync(target, held);
            var e = await Assert.ThrowsAsync<CheckpointException>(() => ModelCheckpoint.LoadAsync(store, target));
            Assert.Contains("synthetic/0000000002", e.Message);
            Assert.Contains("'item.0000.shard'", e.Message);
            Assert.Contains("SHA-256", e.Message);
            Assert.Equal(before, await ScoreAsync(target, held));

            // The previous version is still usable.
            var older = await ModelCheckpoint.LoadAsync(store, target, version: 1);
            Assert.Equal(1, older.Version);
            AssertSamePredictions(await ScoreAsync(trained, held), await ScoreAsync(target, held));
        }
    }

    [Fact]
    public async Task Truncated_and_missing_files_are_errors_naming_them()
    {
        using var dir = new TempFolder();
        var schema = Synthetic();
        var (trained, _) = await TrainedAsync(schema, 2000);
        using (trained)
        {
            var store = new LocalCheckpointStore(dir.Path);
            await ModelCheckpoint.SaveAsync(store, trained, null, 2000, "all");
            var dense = Path.Combine(store.VersionPath("synthetic", 1), CheckpointFiles.Dense);
            var bytes = File.ReadAllBytes(dense);
            File.WriteAllBytes(dense, bytes[..^10]);
            using var target = new InProcessParameterStore(schema);
            var truncated = await Assert.ThrowsAsync<CheckpointException>(() => ModelCheckpoint.LoadAsync(store, target));
            Assert.Contains("'dense.bin' has " + (bytes.Length - 10) + " bytes, the manifest says " + bytes.Length, truncated.Message);
            File.Delete(dense);
            var missing = await Assert.ThrowsAsync<CheckpointException>(() => ModelCheckpoint.LoadAsync(store, target));
            Assert.Contains("file 'dense.bin' is missing", missing.Message);
        }
    }

    [Fact]
    public async Task A_version_without_manifest_is_invisible()
    {
        using var dir = new TempFolder();
        var store = new LocalCheckpointStore(dir.Path);
        var schema = Synthetic();
        using var model = new InProcessParameterStore(schema);
        await ModelCheckpoint.SaveAsync(store, model, null, 0, "all");
        var next = await store.NextVersionAsync("synthetic");
        await using (var s = await store.OpenWriteAsync("synthetic", next, "dense.bin")) s.WriteByte(1);
        Assert.Equal([1L], await store.ListVersionsAsync("synthetic"));
        var latest = await ModelCheckpoint.LoadAsync(store, model);
        Assert.Equal(1, latest.Version);
        Assert.Equal(next + 1, await store.NextVersionAsync("synthetic")); // a started version is never reused
    }

    [Fact]
    public async Task A_checkpoint_of_another_model_shape_is_refused()
    {
        using var dir = new TempFolder();
        var store = new LocalCheckpointStore(dir.Path);
        using (var small = new InProcessParameterStore(Synthetic()))
        {
            await ModelCheckpoint.SaveAsync(store, small, null, 0, "all");
        }
        var wider = Synthetic();
        wider.Model.Hidden = [32, 8];
        using var other = new InProcessParameterStore(wider);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => ModelCheckpoint.LoadAsync(store, other));
        Assert.Contains("dense.bin", e.Message);
        Assert.Contains("different model", e.Message);
    }
}
