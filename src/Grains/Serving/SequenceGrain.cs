using Freshet.Grains.Persistence;
using Freshet.Model.Sequences;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using static Freshet.Grains.Persistence.ShutdownPolicy;

namespace Freshet.Grains.Serving;

/// <summary>
/// One shard of a model's live sequence field (<see cref="ISequenceGrain"/>): the keys of its shard with their last values,
/// bounded as the field says (<see cref="SequenceBuffer"/>). Persisted as a joiner's state is (in chunks, every
/// <see cref="PersistEvery"/> when it changed, and as it deactivates): a shard that moves to another silo loses at most
/// what was recorded since.
/// </summary>
public sealed partial class SequenceGrain(
    [FromKeyedServices(FreshetNames.GrainStorage)] IGrainStorage storage, ILogger<SequenceGrain> logger) : Grain, ISequenceGrain
{
    /// <summary>How often a changed shard writes its state.</summary>
    public static readonly TimeSpan PersistEvery = TimeSpan.FromSeconds(30);

    private ChunkedGrainState? _chunks;
    private bool _dirty;

    private SequenceBuffer? _buffer;
    private SequenceBounds? _bounds;
    private int _shard = -1;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        if (!GrainKeys.TrySplit(key, out _, out _shard) || _shard is < 0 or >= SequenceShards.Count)
        {
            throw new ArgumentException($"sequence grain '{key}': the key is {{model}}/{{field}}/{{shard}} with a shard of 0..{SequenceShards.Count - 1}");
        }
        _chunks = new ChunkedGrainState(storage, this.GetGrainId(), "sequence");
        if (await _chunks.ReadAsync(cancellationToken) is { Length: > 0 } bytes)
        {
            try
            {
                (_bounds, _buffer) = Decode(bytes);
            }
            catch (InvalidDataException e)
            {
                // A state that does not decode is set aside, not served: the sequences start again from new events.
                LogStateUnreadable(logger, e, key);
            }
        }
        this.RegisterGrainTimer(PersistIfChangedAsync, new GrainTimerCreationOptions(PersistEvery, PersistEvery) { Interleave = false, KeepAlive = false });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && !GrainStateDiesWithSilo(storage, reason)) await PersistAsync(cancellationToken);
    }

    private Task PersistIfChangedAsync(CancellationToken cancellationToken) => _dirty ? PersistAsync(cancellationToken) : Task.CompletedTask;

    private async Task PersistAsync(CancellationToken cancellationToken)
    {
        if (_buffer is null || _bounds is null) return;
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(_bounds.Length);
            w.Write(_bounds.ExpireTicks);
            w.Write(_bounds.MaxKeys);
            w.Write(_buffer.Save());
        }
        _dirty = false;
        await _chunks!.WriteAsync(bytes.ToArray(), cancellationToken);
    }

    /// <summary>The bounds and buffer a shard wrote (<see cref="PersistAsync"/>).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a shard's state.</exception>
    internal static (SequenceBounds Bounds, SequenceBuffer Buffer) Decode(byte[] bytes)
    {
        if (bytes.Length < 20) throw new InvalidDataException($"sequence state: {bytes.Length} bytes, shorter than its bounds");
        var bounds = new SequenceBounds(BitConverter.ToInt32(bytes, 0), BitConverter.ToInt64(bytes, 4), BitConverter.ToInt64(bytes, 12));
        if (BoundsProblem(bounds) is { } problem) throw new InvalidDataException($"sequence state: {problem}");
        var buffer = SequenceBuffer.Load(bytes[20..], bounds.Length, bounds.ExpireTicks, ShardKeys(bounds));
        return (bounds, buffer);
    }

    private static long ShardKeys(SequenceBounds bounds) => Math.Max(1, bounds.MaxKeys / SequenceShards.Count);

    public Task<SequenceRead> ReadAsync(SequenceBounds bounds, ulong[] keys, long[] times)
    {
        Check(bounds, keys.Length);
        if (times.Length != keys.Length) throw new ArgumentException($"{keys.Length} keys with {times.Length} times: give one time per key");
        foreach (var key in keys) Mine(key);
        var buffer = BufferFor(bounds);
        var values = new ulong[keys.Length][];
        var ages = new float[keys.Length][];
        for (var i = 0; i < keys.Length; i++) values[i] = buffer.Before(keys[i], times[i], out ages[i]);
        return Task.FromResult(new SequenceRead(values, ages));
    }

    public Task RecordAsync(SequenceBounds bounds, SequenceRecord[] records, long now)
    {
        Check(bounds, records.Length);
        foreach (var r in records) Mine(r.Key);
        var buffer = BufferFor(bounds);
        foreach (var r in records) buffer.Add(r.Key, r.Value, r.Time, Math.Min(now, r.Time));
        _dirty |= records.Length > 0;
        return Task.CompletedTask;
    }

    public Task<SequenceShardStatus> GetStatusAsync() =>
        Task.FromResult(new SequenceShardStatus(_buffer?.Keys ?? 0, _buffer?.Evicted ?? 0, _bounds is null ? 0 : ShardKeys(_bounds)));

    private static void Check(SequenceBounds bounds, int count)
    {
        if (BoundsProblem(bounds) is { } problem) throw new ArgumentException(problem);
        if (count > SequenceShards.MaxPerCall) throw new ArgumentException($"{count} keys in one call; at most {SequenceShards.MaxPerCall}");
    }

    /// <summary>What is wrong with <paramref name="bounds"/> (from a caller or from storage), or null.</summary>
    private static string? BoundsProblem(SequenceBounds bounds) =>
        bounds.Length is < 1 or > 1000 || bounds.MaxKeys < 1 || bounds.ExpireTicks < 1
            ? $"sequence bounds {bounds}: length 1..1000, at least one key and a positive expiry"
            : null;

    private void Mine(ulong key)
    {
        if (SequenceShards.Of(key) != _shard) throw new ArgumentException($"key {key} belongs to shard {SequenceShards.Of(key)}, not {_shard}");
    }

    /// <summary>The buffer for <paramref name="bounds"/>; bounds that changed (a schema redeployed) start it again.</summary>
    private SequenceBuffer BufferFor(SequenceBounds bounds)
    {
        if (_buffer is null || _bounds != bounds)
        {
            _buffer = new SequenceBuffer(bounds.Length, bounds.ExpireTicks, ShardKeys(bounds));
            _bounds = bounds;
            _dirty = true;
        }
        return _buffer;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence shard {Shard}: its persisted state does not decode; it starts again empty")]
    private static partial void LogStateUnreadable(ILogger logger, Exception error, string shard);
}
