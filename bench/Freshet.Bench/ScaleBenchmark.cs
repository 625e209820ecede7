using System.Diagnostics;
using System.Text.Json.Nodes;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Embeddings;
using Freshet.Model.Hashing;
using Freshet.Model.Schema;
using Freshet.Model.Training;

namespace Freshet.Bench;

/// <summary>
/// The in-process half of <c>freshet bench scale</c>: one table of the model filled with synthetic ids to a size, then
/// samples/s of the training step with that table's ids drawn from all its rows, managed memory per row against the raw
/// bytes (id, weights, optimizer state), and a full checkpoint written and restored next to a plain copy of the same files.
/// </summary>
public static class ScaleBenchmark
{
    /// <summary>The bench's model: <paramref name="schema"/> named <c>scale</c> with <paramref name="table"/>'s field in the changing tier (so publishes carry its rows).</summary>
    public static FeatureSchema Schema(FeatureSchema schema, string table)
    {
        var json = JsonNode.Parse(schema.Json)!.AsObject();
        var field = json["fields"]!.AsArray().FirstOrDefault(f => f?["name"]?.GetValue<string>() == table && f["kind"]?.GetValue<string>() == "id")
            ?? throw new ArgumentException($"--table: the schema has no id field '{table}' (its id fields: {string.Join(", ", FeatureLayout.From(schema).IdFields.Select(f => f.Field.Name))})");
        field["tier"] = "changing";
        json["name"] = "scale";
        return SchemaLoader.Parse(json.ToJsonString(), $"{schema.Name} with '{table}' changing");
    }

    /// <summary>The id of synthetic row <paramref name="i"/> (a bijection of 64-bit values, so every row is distinct).</summary>
    public static ulong Id(long i) => IdHasher.Mix((ulong)i ^ 0x5CA1E5CA1E5CA1EUL);

    /// <summary>Where <paramref name="table"/>'s id sits in a sample's <see cref="Sample.Ids"/>.</summary>
    public static int IdIndex(FeatureLayout layout, string table)
    {
        for (var i = 0; i < layout.IdFields.Count; i++)
        {
            if (layout.Tables[layout.IdFields[i].TableIndex].Name == table) return i;
        }
        throw new ArgumentException($"table '{table}' is read by no id field");
    }

    /// <summary>The sample with its id at <paramref name="index"/> replaced.</summary>
    public static Sample WithId(Sample s, int index, ulong id)
    {
        var ids = (ulong[])s.Ids.Clone();
        ids[index] = id;
        return new Sample
        {
            Task = s.Task, Time = s.Time, Label = s.Label, Ids = ids, Bags = s.Bags, Numerics = s.Numerics, Group = s.Group,
            TrueProbability = s.TrueProbability, ConversionTime = s.ConversionTime, ConversionLabel = s.ConversionLabel, Arrival = s.Arrival,
        };
    }

    /// <summary><paramref name="rows"/> rows of <paramref name="table"/> as a checkpoint holds them: synthetic ids, initial weights and optimizer state.</summary>
    public static TableSnapshot Rows(EmbeddingTable table, ModelSpec model, long rows, long lastSeen)
    {
        var n = checked((int)rows);
        var dim = table.Dim;
        var width = table.StateWidth;
        var snap = new TableSnapshot(table.Name, dim, width, table.Optimizer.Kind, new ulong[n], new float[(long)n * dim], new float[(long)n * width], new long[n], new int[n]);
        var salt = IdHasher.TableSalt(table.Name);
        var scale = table.Spec.InitScale ?? model.InitScale;
        for (var i = 0; i < n; i++)
        {
            var id = Id(i);
            snap.Ids[i] = id;
            var w = snap.Weights.AsSpan(i * dim, dim);
            EmbeddingTable.InitialRow(salt, id, scale, w);
            table.Optimizer.Initialize(w, snap.State.AsSpan(i * width, width));
            snap.LastSeen[i] = lastSeen;
        }
        return snap;
    }

    public sealed record InProcess(
        long Rows,
        double StepSamplesPerSecond,
        double TrainerSamplesPerSecond,
        double BytesPerRow,
        double RawBytesPerRow,
        long CheckpointBytes,
        long CheckpointVersion,
        double WriteMBps,
        double RestoreMBps,
        double CopyMBps,
        double WriteSeconds,
        double RestoreSeconds,
        double CopySeconds);

    /// <summary>
    /// Fills <paramref name="table"/> of a fresh in-process model with <paramref name="rows"/> rows, trains the CTR samples
    /// (their ids of that table drawn uniformly from the rows) with the training step, writes a full checkpoint of it into
    /// <paramref name="checkpoints"/> (model <c>schema.Name</c>), copies those files with a plain stream copy, and restores
    /// the checkpoint into another model; <paramref name="phaseDone"/> is called as each of these ends.
    /// </summary>
    public static async Task<InProcess> RunAsync(FeatureSchema schema, string table, long rows, IReadOnlyList<Sample> ctr, IReadOnlyList<Sample> all, string checkpoints, Action<string>? log, CancellationToken cancellationToken, Action<string>? phaseDone = null)
    {
        var layout = FeatureLayout.From(schema);
        var index = IdIndex(layout, table);
        var batch = schema.Model.BatchSize;
        var store = new LocalCheckpointStore(checkpoints);
        double step, trainer, bytesPerRow, raw;
        CheckpointManifest manifest;
        TimeSpan write;
        using (var model = new InProcessParameterStore(schema))
        {
            var t = model.Tables.Single(x => x.Name == table);
            raw = sizeof(ulong) + (t.Dim + t.StateWidth) * sizeof(float);
            // The table takes the snapshot's arrays as its own: no copy of the rows is made beside it.
            t.Adopt(Rows(t, schema.Model, rows, ctr.Count > 0 ? ctr[0].Time : 0));
            t.MarkBase();
            phaseDone?.Invoke("fill");
            // What the table holds, counted from its arrays and maps at their capacity (a heap difference would also count
            // whatever else the process freed or allocated meanwhile).
            bytesPerRow = t.AllocatedBytes / (double)rows;
            log?.Invoke($"{rows:N0} rows: {bytesPerRow:F1} bytes a row in memory ({raw} raw)");

            var random = new Random(17);
            var samples = ctr.Select(s => WithId(s, index, Id(random.NextInt64(rows)))).ToList();
            var ts = new TrainingStep(model, Strategy.All);
            var scores = new float[batch];
            // Two passes over the samples, the second timed: the first warms up (code, caches, the collector after the fill).
            var clock = new Stopwatch();
            long done = 0;
            for (var pass = 0; pass < 2; pass++)
            {
                if (pass == 1) clock.Start();
                for (var i = 0; i + batch <= samples.Count; i += batch)
                {
                    await ts.RunAsync(samples.GetRange(i, batch), TaskKind.Ctr, true, scores, cancellationToken);
                    if (pass == 1) done += batch;
                }
            }
            step = done / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            log?.Invoke($"{rows:N0} rows: training step {step:N0} samples/s");
            // The streaming trainer over every sample (CTR and CVR, their ids of the table drawn from all rows): the in-process
            // counterpart of what the cluster runs.
            var everyRow = new Random(23);
            var report = await new StreamingTrainer(schema, model, new TrainerOptions())
                .ReplayAsync(all.Select(s => WithId(s, index, Id(everyRow.NextInt64(rows)))), cancellationToken);
            trainer = report.Samples / Math.Max(1e-9, report.Seconds);
            log?.Invoke($"{rows:N0} rows: streaming trainer {trainer:N0} samples/s");
            phaseDone?.Invoke("train");

            var w = Stopwatch.StartNew();
            manifest = await ModelCheckpoint.SaveAsync(store, model, null, done, "all", cancellationToken);
            write = w.Elapsed;
            phaseDone?.Invoke("checkpoint");
        }
        var bytes = manifest.Files.Sum(f => f.Bytes);
        var folder = Path.Combine(checkpoints, CheckpointManifest.VersionFolder(manifest.Model, manifest.Version));

        // The same files through a plain stream copy, then read back the same way (the page cache serves both sides alike).
        var copyFolder = Path.Combine(checkpoints, "copy-" + manifest.Version);
        Directory.CreateDirectory(copyFolder);
        var c = Stopwatch.StartNew();
        var buffer = new byte[1 << 20];
        foreach (var f in manifest.Files)
        {
            await using var from = new FileStream(Path.Combine(folder, f.Name), FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            await using var to = new FileStream(Path.Combine(copyFolder, f.Name), FileMode.Create, FileAccess.Write, FileShare.None, 1);
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0) await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
        var copy = c.Elapsed;
        Directory.Delete(copyFolder, recursive: true);
        phaseDone?.Invoke("copy");

        TimeSpan restore;
        using (var model = new InProcessParameterStore(schema))
        {
            var r = Stopwatch.StartNew();
            await ModelCheckpoint.LoadAsync(store, model, manifest.Version, cancellationToken);
            restore = r.Elapsed;
            var loaded = model.Tables.Single(x => x.Name == table).Count;
            if (loaded < rows) throw new InvalidOperationException($"the restored table holds {loaded:N0} rows, {rows:N0} were written");
        }
        // Both models are gone: give their memory back before what comes next (the cluster half) is measured.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        phaseDone?.Invoke("restore");
        static double MBps(long b, TimeSpan t) => b / 1e6 / Math.Max(1e-9, t.TotalSeconds);
        log?.Invoke($"{rows:N0} rows: checkpoint {bytes / 1e6:N0} MB written at {MBps(bytes, write):N0} MB/s, restored at {MBps(bytes, restore):N0} MB/s; plain copy {MBps(bytes, copy):N0} MB/s");
        return new InProcess(rows, step, trainer, bytesPerRow, raw, bytes, manifest.Version, MBps(bytes, write), MBps(bytes, restore), MBps(bytes, copy),
            write.TotalSeconds, restore.TotalSeconds, copy.TotalSeconds);
    }
}
