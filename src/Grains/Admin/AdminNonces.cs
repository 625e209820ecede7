using Freshet.Admin;

namespace Freshet.Grains.Admin;

/// <summary>
/// The nonces of the admin proofs this silo took, each until its proof is too old to be taken anyway (its time plus
/// <see cref="AdminProof.Skew"/>): a proof sent again is refused as a replay. Memory is bounded: at most
/// <see cref="Capacity"/> nonces; past that, admin calls are refused until old ones expire (no one makes that many
/// admin calls in <see cref="AdminProof.Skew"/> but a flood).
/// </summary>
public sealed class AdminNonces(TimeProvider time, int capacity = AdminNonces.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private readonly Dictionary<string, DateTime> _taken = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTime> _expiry = new();
    private readonly Lock _lock = new();

    public int Capacity => capacity;

    /// <summary>Nonces remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _taken.Count;
        }
    }

    /// <summary>Takes the nonce of a proof made at <paramref name="made"/> for <paramref name="method"/>; throws <see cref="ClientCallRefusedException"/> if it was taken before, or if the silo holds <see cref="Capacity"/> nonces.</summary>
    public void Take(string nonce, DateTime made, string method)
    {
        var now = time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            while (_expiry.TryPeek(out var old, out var until) && until <= now)
            {
                _expiry.Dequeue();
                _taken.Remove(old);
            }
            if (_taken.ContainsKey(nonce))
            {
                throw new ClientCallRefusedException($"{method}: this admin proof was already used; a proof is good for one call (the Freshet client SDK signs each call anew)");
            }
            if (_taken.Count >= capacity)
            {
                throw new ClientCallRefusedException($"{method}: this silo took {capacity} admin calls in the last {AdminProof.Skew.TotalMinutes:F0} minutes and takes no more until they age; try again later");
            }
            var forgetAt = made + AdminProof.Skew;
            _taken[nonce] = forgetAt;
            _expiry.Enqueue(nonce, forgetAt);
        }
    }
}
