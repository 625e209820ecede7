using Freshet.Model.Serving;
using Azure.Storage.Blobs;
using Freshet.Grains.Checkpoints;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Integration.Tests;

[Collection(AzuriteCollection.Name)]
public class BlobCheckpointStoreTests(Azurite azurite)
{
    private AzureBlobCheckpointStore Store(out BlobContainerClient container)
    {
        container = new BlobContainerClient(azurite.ConnectionString, "ck" + Guid.NewGuid().ToString("N")[..12]);
        return new AzureBlobCheckpointStore(container);
    }

    private static async Task<(InProcessParameterStore Model, List<Sample> Held)> TrainedAsync()
    {
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var all = SampleReader.Open(schema, SampleReader.SyntheticData).Read(4000).ToList();
        var model = new InProcessParameterStore(schema);
        await new StreamingTrainer(schema, model, new TrainerOptions()).ReplayAsync(all.Take(3500));
        return (model, all.Skip(3500).Where(s => s.Task == TaskKind.Ctr).ToList());
    }

    private static async Task<float[]> ScoreAsync(IParameterStore store, List<Sample> batch)
    {
        var scores = new float[batch.Count];
        await new TrainingStep(store, Strategy.Base).ScoreAsync(batch, TaskKind.Ctr, scores);
        return scores;
    }

    [AzuriteFact]
    public async Task Retained_deltas_are_uploaded_whole_and_a_damaged_one_is_named_and_models_are_listed()
    {
        var store = Store(out var container);
        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        using var model = new InProcessParameterStore(schema);
        var version = (await ModelCheckpoint.SaveAsync(store, model, null, 0, "all", modelName: "blobm")).Version;
        await ModelCheckpoint.SaveAsync(store, model, null, 0, "all", modelName: "other");
        Assert.Equal(["blobm", "other"], await store.ListModelsAsync());

        var delta = new Freshet.Model.Serving.WeightDelta { Model = "blobm", Version = new WeightsVersion(version, 1), SnapshotUtc = DateTime.UtcNow };
        await store.WriteAtomicAsync("blobm", version, CheckpointFiles.Delta(1), delta.Encode());
        Assert.Equal([CheckpointFiles.Delta(1)], await store.ListFilesAsync("blobm", version, CheckpointFiles.DeltaPrefix));
        var read = await Freshet.Model.Serving.ServingReplica.ReadDeltaAsync(store, "blobm", version, CheckpointFiles.Delta(1), CancellationToken.None);
        Assert.Equal(new WeightsVersion(version, 1), read.Version);

        var blob = container.GetBlobClient($"blobm/{version:D10}/{CheckpointFiles.Delta(1)}");
        var bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        await blob.UploadAsync(BinaryData.FromBytes(bytes[..^8]), overwrite: true);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => Freshet.Model.Serving.ServingReplica.ReadDeltaAsync(store, "blobm", version, CheckpointFiles.Delta(1), CancellationToken.None));
        Assert.Contains($"blobm/{version:D10}/delta-0000000001.bin", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [AzuriteFact]
    public async Task A_model_round_trips_through_blob_checkpoints_and_a_corrupt_blob_is_named()
    {
        var store = Store(out var container);
        var (model, held) = await TrainedAsync();
        using (model)
        {
            var v1 = await ModelCheckpoint.SaveAsync(store, model, null, 3500, "all");
            var v2 = await ModelCheckpoint.SaveAsync(store, model, null, 3500, "all");
            Assert.Equal([1L, 2L], await store.ListVersionsAsync("synthetic"));

            using var restored = new InProcessParameterStore(model.Schema);
            await ModelCheckpoint.LoadAsync(store, restored);
            var expected = await ScoreAsync(model, held);
            var actual = await ScoreAsync(restored, held);
            for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);

            // Corrupt one blob of version 2: the load names it; version 1 still loads.
            var blob = container.GetBlobClient($"synthetic/{v2.Version:D10}/{CheckpointFiles.Shard("item", 0)}");
            var bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
            bytes[bytes.Length / 3] ^= 0xFF;
            await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
            using var target = new InProcessParameterStore(model.Schema);
            var e = await Assert.ThrowsAsync<CheckpointException>(() => ModelCheckpoint.LoadAsync(store, target));
            Assert.Contains("synthetic/0000000002", e.Message);
            Assert.Contains("'item.0000.shard'", e.Message);
            Assert.Contains("SHA-256", e.Message);
            Assert.Equal(v1.Version, (await ModelCheckpoint.LoadAsync(store, target, v1.Version)).Version);
        }
    }

    [AzuriteFact]
    public async Task A_version_without_manifest_is_invisible_and_versions_are_never_reused()
    {
        var store = Store(out var container);
        var (model, _) = await TrainedAsync();
        using (model)
        {
            await ModelCheckpoint.SaveAsync(store, model, null, 0, "all");
            var started = await store.NextVersionAsync("synthetic");
            await using (var s = await store.OpenWriteAsync("synthetic", started, "dense.bin")) s.WriteByte(7);
            Assert.Equal([1L], await store.ListVersionsAsync("synthetic"));
            Assert.Equal(1, (await ModelCheckpoint.LoadAsync(store, model)).Version);
            Assert.Equal(started + 1, await store.NextVersionAsync("synthetic"));
            var missing = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointReader.OpenAsync(store, "synthetic", started));
            Assert.Contains("has no manifest.json", missing.Message);

            await ModelCheckpoint.SaveAsync(store, model, null, 0, "all");
            await ModelCheckpoint.SaveAsync(store, model, null, 0, "all");
            var deleted = await CheckpointWriter.PruneAsync(store, "synthetic", keep: 2);
            Assert.Single(deleted);
            Assert.Equal(2, (await store.ListVersionsAsync("synthetic")).Count);
            Assert.False(await container.GetBlobClient($"synthetic/{deleted[0]:D10}/{CheckpointFiles.Dense}").ExistsAsync());
        }
    }
}
