using System.Security.Cryptography;
using System.Text;

namespace Freshet.Grains.Admin;

/// <summary>
/// The secret every silo of a cluster shares and no client holds (<c>Freshet:Silo:ClusterKey</c>, base64 of at least
/// <see cref="MinBytes"/> random bytes, given to silos only). Keys for each use are derived from it (<see cref="For"/>):
/// silos prove their calls with one (<see cref="SiloCallProof"/>) and seal what they send on the weights stream with another
/// (<see cref="Weights.WeightsChannel"/>). Without a configured key (<see cref="Configured"/> false) the key is derived from
/// the cluster's names, which are no secret: such a cluster tells its silos from a careless client, not from one that
/// knows how the key is derived; a silo with TLS on does not start without a configured key.
/// </summary>
public sealed class ClusterKey
{
    public const int MinBytes = 32;

    private readonly byte[] _secret;

    private ClusterKey(byte[] secret, bool configured)
    {
        _secret = secret;
        Configured = configured;
    }

    /// <summary>Whether the key was given (a secret), not derived from the cluster's names.</summary>
    public bool Configured { get; }

    /// <summary>What is wrong with <paramref name="base64"/> as a cluster key given by setting <paramref name="setting"/>, or null.</summary>
    public static string? Problem(string base64, string setting)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            return $"{setting}: not base64; give at least {MinBytes} random bytes in base64 (e.g. the output of `openssl rand -base64 32`), the same on every silo and on no client";
        }
        return bytes.Length < MinBytes ? $"{setting}: {bytes.Length} bytes; give at least {MinBytes} random bytes in base64 (e.g. the output of `openssl rand -base64 32`)" : null;
    }

    /// <summary>The key given by setting <paramref name="setting"/>; throws <see cref="ArgumentException"/> naming it when it is not one.</summary>
    public static ClusterKey FromSetting(string base64, string setting) =>
        Problem(base64, setting) is { } problem ? throw new ArgumentException(problem) : new ClusterKey(Convert.FromBase64String(base64.Trim()), configured: true);

    /// <summary>The key of a cluster that was given none: derived from its service and cluster ids (no secret).</summary>
    public static ClusterKey FromNames(string serviceId, string clusterId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"freshet-cluster-key|{serviceId}|{clusterId}")), configured: false);

    /// <summary>A key for one use (<paramref name="purpose"/>), derived from the secret with HKDF-SHA256.</summary>
    public byte[] For(string purpose) => HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, salt: [], info: Encoding.UTF8.GetBytes(purpose));
}
