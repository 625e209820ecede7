using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Orleans.Serialization;
using Orleans.Serialization.Invocation;

namespace Freshet.Admin;

/// <summary>
/// Proof that an admin call comes from a holder of an admin certificate, for this call only: the certificate (public
/// part), the time, a random nonce, the digest of the call's arguments, and a signature with the certificate's private
/// key over the call's target and method and all of these. The client SDK attaches it (request context <see cref="Key"/>)
/// to every admin call when it connects with TLS; a silo with TLS on takes an admin call only with a proof from a
/// certificate it lists as admin, made for these arguments, within <see cref="Skew"/> of its clock, and whose nonce it has
/// not taken before (it remembers them for that long: see the silo's <c>AdminNonces</c>). So a proof seen in transit or
/// in a log cannot be sent again, nor sent with other arguments.
/// </summary>
public static class AdminProof
{
    public const string Key = "freshet.admin-proof";

    private const string Version = "v2";

    /// <summary>How far a proof's time may be from the silo's clock.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    /// <summary>A proof for the call of <paramref name="method"/> on <paramref name="target"/> with arguments whose digest is <paramref name="arguments"/>.</summary>
    public static string Create(X509Certificate2 certificate, string target, string method, byte[] arguments, DateTime utcNow)
    {
        var ticks = utcNow.Ticks;
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var digest = Convert.ToHexString(arguments);
        var signature = Sign(certificate, Payload(target, method, digest, ticks, nonce));
        return string.Join('.', Version, Convert.ToBase64String(certificate.RawData), ticks.ToString(CultureInfo.InvariantCulture), nonce, digest, Convert.ToBase64String(signature));
    }

    /// <summary>
    /// Checks a proof for this call (its target, method and arguments' digest) and time; returns its certificate, nonce and
    /// time, or throws saying what is wrong. Whether the nonce was used before is the caller's to check.
    /// </summary>
    public static AdminProofCheck Verify(string? proof, string target, string method, byte[] arguments, DateTime utcNow)
    {
        if (string.IsNullOrEmpty(proof)) throw new ClientCallRefusedException($"{method}: admin calls on this cluster take an admin certificate, and this call came without one; connect with a certificate listed in Freshet:Silo:AdminCertificates (FreshetClient signs admin calls with its TLS certificate)");
        var parts = proof.Split('.');
        if (parts.Length != 6 || parts[0] != Version || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTime.MaxValue.Ticks || parts[3].Length != 32 || parts[4].Length != 64)
        {
            throw new ClientCallRefusedException($"{method}: the admin proof is malformed; use the Freshet client SDK of this version");
        }
        X509Certificate2 certificate;
        byte[] signature;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(parts[1]));
            signature = Convert.FromBase64String(parts[5]);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new ClientCallRefusedException($"{method}: the admin proof's certificate or signature cannot be read ({e.Message})");
        }
        var made = new DateTime(ticks, DateTimeKind.Utc);
        var age = utcNow - made;
        if (age.Duration() > Skew)
        {
            throw new ClientCallRefusedException($"{method}: the admin proof was made {age.TotalSeconds:F0} s from this silo's clock (at most {Skew.TotalSeconds:F0} s); check the clocks of the client and the silos");
        }
        if (!Check(certificate, Payload(target, method, parts[4], ticks, parts[3]), signature))
        {
            throw new ClientCallRefusedException($"{method}: the admin proof's signature does not match its certificate ({certificate.Subject}); the call is refused");
        }
        if (!string.Equals(parts[4], Convert.ToHexString(arguments), StringComparison.Ordinal))
        {
            throw new ClientCallRefusedException($"{method}: the admin proof was made for other arguments than this call's; each admin call signs its own arguments (the Freshet client SDK does)");
        }
        return new AdminProofCheck(certificate, parts[3], made);
    }

    /// <summary>
    /// The digest of a call's arguments: SHA-256 over each argument as Orleans serializes it, length-prefixed. The client
    /// and the silo compute it from the same serializer, the client on its arguments as the silo will read them
    /// (<see cref="AsReceived"/>), the silo on what it read.
    /// </summary>
    public static byte[] Arguments(IInvokable request, Serializer serializer) => Digest(request, argument => serializer.SerializeToArray(argument));

    /// <summary>
    /// <see cref="Arguments"/> of a call about to be sent, on its arguments as the receiving silo will have them (serialized
    /// and read back: a collection's concrete type, say, is the one the silo reads, not the caller's).
    /// </summary>
    public static byte[] AsReceived(IInvokable request, Serializer serializer) =>
        Digest(request, argument => serializer.SerializeToArray(serializer.Deserialize<object?>(serializer.SerializeToArray(argument))));

    private static byte[] Digest(IInvokable request, Func<object?, byte[]> bytesOf)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        var count = request.GetArgumentCount();
        for (var i = 0; i < count; i++)
        {
            var bytes = bytesOf(request.GetArgument(i));
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return hash.GetHashAndReset();
    }

    private static byte[] Payload(string target, string method, string digest, long ticks, string nonce) =>
        Encoding.UTF8.GetBytes($"freshet-admin|{Version}|{target}|{method}|{digest}|{ticks}|{nonce}");

    private static byte[] Sign(X509Certificate2 certificate, byte[] payload)
    {
        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is not null) return rsa.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var ecdsa = certificate.GetECDsaPrivateKey();
        if (ecdsa is not null) return ecdsa.SignData(payload, HashAlgorithmName.SHA256);
        throw new CryptographicException($"certificate {certificate.Subject} has no RSA or ECDSA private key to sign admin calls with");
    }

    private static bool Check(X509Certificate2 certificate, byte[] payload, byte[] signature)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null) return rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var ecdsa = certificate.GetECDsaPublicKey();
        return ecdsa is not null && ecdsa.VerifyData(payload, signature, HashAlgorithmName.SHA256);
    }
}
