using Freshet.Grains.Persistence;
using Orleans.Serialization;

namespace Freshet.Grains.Jobs;

/// <summary>
/// A job's delta taken from the shards and not yet delivered, kept in grain state (chunked: it can be megabytes) so that
/// it survives a deactivation and goes out first on the next publish.
/// </summary>
internal sealed class UnsentDeltaState(ChunkedGrainState state, Serializer<UnsentDelta> serializer, Action<Exception, string> notPersisted)
{
    private bool _persisted;

    /// <summary>The delta kept by an earlier activation, if any.</summary>
    public async Task<UnsentDelta?> ReadAsync(CancellationToken cancellationToken)
    {
        if (await state.ReadAsync(cancellationToken) is not { Length: > 0 } bytes || serializer.Deserialize(bytes) is not { } kept) return null;
        _persisted = true;
        return kept;
    }

    /// <summary>
    /// Keeps (or, with null, drops) the delta not yet delivered. Storage that fails here (the outage the publish met, most
    /// likely) leaves it in the plan's memory only, which <c>notPersisted</c> says.
    /// </summary>
    public async Task KeepAsync(UnsentDelta? delta)
    {
        if (delta is null && !_persisted) return;
        try
        {
            await state.WriteAsync(delta is null ? [] : serializer.SerializeToArray(delta));
            _persisted = delta is not null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            notPersisted(e, delta?.Result.Weights.ToString() ?? "none");
        }
    }
}
