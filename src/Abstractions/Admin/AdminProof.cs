using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Freshet.Admin;

/// <summary>
/// Proof that an admin call comes from a holder of an admin certificate: the certificate (public part),
/// the time, and a signature with its private key over the call's target, method and time. The client
/// SDK attaches it (request context <see cref="Key"/>) to every admin call when it connects with TLS; a
/// silo with TLS on takes admin calls only with a proof from a certificate it lists as admin. The
/// connection's TLS keeps the proof from being seen by others; the time bounds how long one is good.
/// </summary>
public static class AdminProof
{
    public const string Key = "freshet.admin-proof";

    /// <summary>How far a proof's time may be from the silo's clock.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    public static string Create(X509Certificate2 certificate, string target, string method, DateTime utcNow)
    {
        var ticks = utcNow.Ticks;
        var signature = Sign(certificate, Payload(target, method, ticks));
        return string.Join('.', "v1", Convert.ToBase64String(certificate.RawData), ticks.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(signature));
    }

    /// <summary>Checks a proof for this call; returns its certificate, or throws saying what is wrong.</summary>
    public static X509Certificate2 Verify(string? proof, string target, string method, DateTime utcNow)
    {
        if (string.IsNullOrEmpty(proof)) throw new ClientCallRefusedException($"{method}: admin calls on this cluster take an admin certificate, and this call came without one; connect with a certificate listed in Freshet:Silo:AdminCertificates (FreshetClient signs admin calls with its TLS certificate)");
        var parts = proof.Split('.');
        if (parts.Length != 4 || parts[0] != "v1" || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            throw new ClientCallRefusedException($"{method}: the admin proof is malformed; use the Freshet client SDK of this version");
        }
        X509Certificate2 certificate;
        byte[] signature;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(parts[1]));
            signature = Convert.FromBase64String(parts[3]);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new ClientCallRefusedException($"{method}: the admin proof's certificate or signature cannot be read ({e.Message})");
        }
        var age = utcNow - new DateTime(ticks, DateTimeKind.Utc);
        if (age.Duration() > Skew)
        {
            throw new ClientCallRefusedException($"{method}: the admin proof was made {age.TotalSeconds:F0} s from this silo's clock (at most {Skew.TotalSeconds:F0} s); check the clocks of the client and the silos");
        }
        if (!Check(certificate, Payload(target, method, ticks), signature))
        {
            throw new ClientCallRefusedException($"{method}: the admin proof's signature does not match its certificate ({certificate.Subject}); the call is refused");
        }
        return certificate;
    }

    private static byte[] Payload(string target, string method, long ticks) => Encoding.UTF8.GetBytes($"freshet-admin|{target}|{method}|{ticks}");

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
