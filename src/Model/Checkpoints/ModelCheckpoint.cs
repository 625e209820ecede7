using System.Text;
using Freshet.Model.Embeddings;
using Freshet.Model.Training;

namespace Freshet.Model.Checkpoints;

/// <summary>Full checkpoints of an in-process model: every table (one shard each), the dense tier, and the schema.</summary>
public static class ModelCheckpoint
{
    public static async Task<CheckpointManifest> SaveAsync(ICheckpointStore store, InProcessParameterStore model, DateTime? eventTime, long samples, string? strategy, CancellationToken cancellationToken = default, string? modelName = null)
    {
        var writer = await CheckpointWriter.BeginAsync(store, modelName ?? model.Schema.Name, cancellationToken);
        await writer.AddFileAsync(CheckpointFiles.Schema, "schema", s => s.Write(Encoding.UTF8.GetBytes(model.Schema.Json)), cancellationToken: cancellationToken);
        foreach (var table in model.Tables)
        {
            await writer.AddFileAsync(CheckpointFiles.Shard(table.Name, 0), "shard", s => ShardFile.Write(s, table, 0, 1), table.Name, 0, 1, table.Count, cancellationToken);
        }
        foreach (var rate in model.Rates)
        {
            // A checkpoint holds settled counts only: the model saved settles too, so it and any model loaded from it agree.
            rate.Settle(long.MaxValue);
            var snap = rate.Export();
            await writer.AddFileAsync(CheckpointFiles.Statistics(rate.Name, 0), "stats", s => ShardFile.Write(s, snap, 0, 1, withState: false), rate.Name, 0, 1, snap.Ids.Length, cancellationToken);
        }
        await writer.AddFileAsync(CheckpointFiles.Dense, "dense", s => DenseFile.Write(s, model.ComputeModel, model.Optimizers), cancellationToken: cancellationToken);
        return await writer.CommitAsync(eventTime, samples, strategy, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Loads <paramref name="version"/> (the latest when null) into <paramref name="model"/>. Every file
    /// is verified and parsed before the model is touched, so a bad checkpoint leaves it as it was.
    /// </summary>
    public static async Task<CheckpointManifest> LoadAsync(ICheckpointStore store, InProcessParameterStore model, long? version = null, CancellationToken cancellationToken = default, string? modelName = null)
    {
        // Each file is hashed while it is parsed (one read), and the model is touched only after every file passed.
        var reader = await CheckpointReader.OpenAsync(store, modelName ?? model.Schema.Name, version, cancellationToken, verify: false);
        var snapshots = new Dictionary<string, List<TableSnapshot>>(StringComparer.Ordinal);
        var statistics = new Dictionary<string, List<TableSnapshot>>(StringComparer.Ordinal);
        DenseFile.Content? dense = null;
        foreach (var f in reader.Manifest.Files)
        {
            switch (f.Kind)
            {
                case "shard":
                    var snap = await reader.ReadVerifiedAsync(f, s => ShardFile.Read(s, reader.Describe(f)).Snapshot, cancellationToken);
                    if (!snapshots.TryGetValue(snap.Table, out var list)) snapshots[snap.Table] = list = [];
                    list.Add(snap);
                    break;
                case "stats":
                    var stats = await reader.ReadVerifiedAsync(f, s => ShardFile.Read(s, reader.Describe(f)).Snapshot, cancellationToken);
                    if (!statistics.TryGetValue(stats.Table, out var statList)) statistics[stats.Table] = statList = [];
                    statList.Add(stats);
                    break;
                case "dense":
                    dense = await reader.ReadVerifiedAsync(f, s => DenseFile.Read(s, reader.Describe(f)), cancellationToken);
                    break;
                default:
                    await reader.VerifyAsync([f], cancellationToken); // the schema and whatever else the version lists
                    break;
            }
        }
        if (dense is null)
        {
            throw new CheckpointException($"checkpoint {CheckpointManifest.VersionFolder(reader.Manifest.Model, reader.Manifest.Version)} has no {CheckpointFiles.Dense}");
        }
        foreach (var t in model.Tables)
        {
            if (snapshots.TryGetValue(t.Name, out var parts) && parts.Any(p => p.Dim != t.Dim))
            {
                throw new CheckpointException($"checkpoint {CheckpointManifest.VersionFolder(reader.Manifest.Model, reader.Manifest.Version)}: table '{t.Name}' has dim {parts[0].Dim}, the schema says {t.Dim}");
            }
        }
        DenseFile.Apply(dense, model.ComputeModel, model.Optimizers, $"checkpoint {CheckpointManifest.VersionFolder(reader.Manifest.Model, reader.Manifest.Version)}: file '{CheckpointFiles.Dense}'");
        foreach (var t in model.Tables)
        {
            t.Adopt(snapshots.TryGetValue(t.Name, out var parts) ? Merge(parts) : Empty(t)); // the snapshots were read for this model alone
        }
        foreach (var r in model.Rates)
        {
            r.Import(statistics.TryGetValue(r.Name, out var stats) ? (stats.Count == 1 ? stats[0] : Statistics.RateTable.MergeParts(stats)) : new TableSnapshot(r.Name, 2, 0, default, [], [], [], [], []));
        }
        return reader.Manifest;
    }

    private static TableSnapshot Empty(EmbeddingTable t) => new(t.Name, t.Dim, t.StateWidth, t.Optimizer.Kind, [], [], [], [], []);

    private static TableSnapshot Merge(List<TableSnapshot> parts)
    {
        if (parts.Count == 1) return parts[0];
        var first = parts[0];
        return new TableSnapshot(first.Table, first.Dim, first.StateWidth, first.Optimizer,
            [.. parts.SelectMany(p => p.Ids)], [.. parts.SelectMany(p => p.Weights)], [.. parts.SelectMany(p => p.State)],
            [.. parts.SelectMany(p => p.LastSeen)], [.. parts.SelectMany(p => p.Steps)]);
    }
}
