using Azure;
using Azure.Data.Tables;
using Freshet.Model.Checkpoints;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>
/// Where each samples hub partition's Event Hubs receiver starts, in an Azure table: the offset Orleans commits as
/// events are delivered (as its own table checkpointer does), and a rewind that restoring a checkpoint asks for (the
/// checkpoint's <c>ResumeOffsets</c>). A receiver starting (at silo start, on a queue's move, or when its provider's
/// agents are started again) reads the earlier of the two, so the restored job gets every event after what its
/// checkpoint holds, and other jobs on the hub lose nothing (their trainers drop what they had received already).
/// One row per (stream provider, service, hub partition): <c>Offset</c> and <c>Rewind</c>, both Event Hubs offsets.
/// </summary>
public sealed partial class HubCheckpoints(TableClient table, string serviceId, TimeSpan persistInterval, ILogger<HubCheckpoints> logger)
{
    private int _created;

    public TimeSpan PersistInterval { get; } = persistInterval;

    /// <summary>The row of <paramref name="provider"/>'s partition <paramref name="partition"/>.</summary>
    internal (string PartitionKey, string RowKey) KeyOf(string provider, string partition) => (Sanitize($"{provider}_{serviceId}"), Sanitize($"partition_{partition}"));

    internal TableClient Table => table;

    internal ILogger Logger => logger;

    internal async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 1) return;
        await table.CreateIfNotExistsAsync(cancellationToken);
        Volatile.Write(ref _created, 1);
    }

    /// <summary>A checkpointer for one hub partition's receiver (what Orleans' Event Hubs provider asks its factory for).</summary>
    public async Task<IStreamQueueCheckpointer<string>> CreateAsync(string provider, string partition, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        return new HubCheckpointer(this, provider, partition);
    }

    /// <summary>
    /// Asks <paramref name="provider"/>'s receiver of hub partition <paramref name="partition"/> to start again at
    /// <paramref name="offset"/> (inclusive) the next time it starts, unless it would start earlier anyway.
    /// </summary>
    public async Task RewindAsync(string provider, string partition, string offset, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        var (pk, rk) = KeyOf(provider, partition);
        while (true)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(new TableEntity(pk, rk) { ["Rewind"] = offset }, cancellationToken);
                    return;
                }
                var row = existing.Value!;
                if (row.GetString("Rewind") is { } earlier && CheckpointManifest.CompareOffsets(earlier, offset) <= 0) return;
                row["Rewind"] = offset;
                await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Merge, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another writer (a receiver's commit, another rewind) came first: read again and decide again.
            }
        }
    }

    /// <summary>The row as it stands: the committed offset and the pending rewind (null where none).</summary>
    public async Task<(string? Offset, string? Rewind)> ReadAsync(string provider, string partition, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        var (pk, rk) = KeyOf(provider, partition);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: cancellationToken);
        return row.HasValue ? (row.Value!.GetString("Offset"), row.Value.GetString("Rewind")) : (null, null);
    }

    /// <summary>Table keys may not hold <c>/ \ # ?</c> or control characters.</summary>
    private static string Sanitize(string key) =>
        string.Concat(key.Select(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c) ? '_' : c));

    [LoggerMessage(Level = LogLevel.Information, Message = "Samples hub receiver {Provider} partition {Partition} starts at offset {Offset}, rewound by a restore (its last commit was {Committed})")]
    internal static partial void LogRewound(ILogger logger, string provider, string partition, string offset, string committed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Samples hub receiver {Provider} partition {Partition}: committing offset {Offset} failed; the next commit tries again (a restart reads again from the last commit, and trainers drop the repeats)")]
    internal static partial void LogCommitFailed(ILogger logger, Exception error, string provider, string partition, string offset);
}

/// <summary>One hub partition's receiver's checkpoint: loads the start offset (a pending rewind first), commits delivery progress at most every persist interval.</summary>
internal sealed class HubCheckpointer(HubCheckpoints store, string provider, string partition) : IStreamQueueCheckpointer<string>
{
    private readonly object _gate = new();
    private string? _latest;
    private string? _saved;
    private DateTime _lastSave = DateTime.MinValue;
    private Task _saving = Task.CompletedTask;

    public bool CheckpointExists => !string.IsNullOrEmpty(_latest);

    [Obsolete("Use the overload that takes a CancellationToken.")]
    public Task<string> Load() => Load(CancellationToken.None);

    public async Task<string> Load(CancellationToken cancellationToken)
    {
        var (pk, rk) = store.KeyOf(provider, partition);
        while (true)
        {
            var row = await store.Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: cancellationToken);
            if (!row.HasValue)
            {
                _latest = _saved = null;
                return "";
            }
            var entity = row.Value!;
            var committed = entity.GetString("Offset");
            var rewind = entity.GetString("Rewind");
            if (rewind is null)
            {
                _latest = _saved = committed;
                return committed ?? "";
            }
            // A rewind: start at the earlier of it and the last commit, and make that the commit, so the rewind is used once.
            var start = committed is null || CheckpointManifest.CompareOffsets(rewind, committed) < 0 ? rewind : committed;
            try
            {
                var replaced = new TableEntity(pk, rk) { ["Offset"] = start };
                await store.Table.UpdateEntityAsync(replaced, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                _latest = _saved = start;
                HubCheckpoints.LogRewound(store.Logger, provider, partition, start, committed ?? "none");
                return start;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Changed meanwhile (another rewind): read again.
            }
        }
    }

    [Obsolete("Use the overload that takes a CancellationToken.")]
    public void Update(string offset, DateTime utcNow) => Update(offset, utcNow, CancellationToken.None);

    /// <summary>Delivery progress: kept, and committed when the persist interval has passed since the last commit (one commit at a time).</summary>
    public void Update(string offset, DateTime utcNow, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Only forward: a late, lower offset from one part of the provider must not undo a commit.
            if (_latest is not null && CheckpointManifest.CompareOffsets(offset, _latest) <= 0) return;
            _latest = offset;
            if (utcNow - _lastSave < store.PersistInterval || !_saving.IsCompleted) return;
            _lastSave = utcNow;
            _saving = SaveAsync(offset);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Task saving;
        string? latest;
        lock (_gate)
        {
            saving = _saving;
            latest = _latest;
        }
        await saving;
        if (latest is not null && latest != _saved) await SaveAsync(latest);
    }

    /// <summary>Writes the offset, leaving a pending rewind in place (a restore may have asked for one since this receiver started).</summary>
    private async Task SaveAsync(string offset)
    {
        var (pk, rk) = store.KeyOf(provider, partition);
        try
        {
            await store.Table.UpsertEntityAsync(new TableEntity(pk, rk) { ["Offset"] = offset }, TableUpdateMode.Merge);
            _saved = offset;
        }
        catch (RequestFailedException e)
        {
            HubCheckpoints.LogCommitFailed(store.Logger, e, provider, partition, offset);
        }
    }
}
