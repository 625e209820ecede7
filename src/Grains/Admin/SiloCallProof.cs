using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Freshet.Grains.Admin;

/// <summary>
/// How a silo tells a call made by a silo from a client's. Orleans cannot: a client's message names its sender itself
/// (<c>SendingGrain</c>, which the gateway passes on unchecked), and a client may address any grain, grain extension or
/// system target. So every call a silo sends (from a grain, a system target, a stream's pulling agent or the silo's own
/// client) carries, in request context <see cref="Key"/>, an HMAC under a key derived from the <see cref="ClusterKey"/>
/// over the method called and the time; calls to clients never do (<see cref="SiloCallProofFilter"/>). A call that
/// arrives with a good proof made within <see cref="MaxAge"/> is a silo's; any other call is a client's
/// (<see cref="ClientCallFilter"/>).
/// </summary>
public sealed class SiloCallProof(ClusterKey key, TimeProvider time)
{
    public const string Key = "freshet.silo-proof";

    /// <summary>
    /// How old a proof may be when its call is invoked: a call waits in a grain's queue up to the response timeout
    /// (5 minutes in Freshet's silos), and silos' clocks differ a little.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);

    private readonly byte[] _key = key.For("freshet/silo-calls/v1");

    /// <summary>A proof for a call of <paramref name="interfaceName"/>.<paramref name="methodName"/> sent now.</summary>
    public string Create(string interfaceName, string methodName)
    {
        var ticks = time.GetUtcNow().UtcTicks;
        return $"{ticks.ToString(CultureInfo.InvariantCulture)}.{Convert.ToBase64String(Mac(interfaceName, methodName, ticks))}";
    }

    /// <summary>Whether <paramref name="proof"/> is a silo's proof for this method, made within <see cref="MaxAge"/> of now.</summary>
    public bool Verify(string proof, string interfaceName, string methodName)
    {
        var cut = proof.IndexOf('.', StringComparison.Ordinal);
        if (cut <= 0 || !long.TryParse(proof.AsSpan(0, cut), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTime.MaxValue.Ticks) return false;
        if ((time.GetUtcNow().UtcDateTime - new DateTime(ticks, DateTimeKind.Utc)).Duration() > MaxAge) return false;
        Span<byte> given = stackalloc byte[32];
        return Convert.TryFromBase64Chars(proof.AsSpan(cut + 1), given, out var written) && written == given.Length
            && CryptographicOperations.FixedTimeEquals(given, Mac(interfaceName, methodName, ticks));
    }

    private byte[] Mac(string interfaceName, string methodName, long ticks) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{interfaceName}|{methodName}|{ticks.ToString(CultureInfo.InvariantCulture)}"));
}
