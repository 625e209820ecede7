using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Freshet.Security;

/// <summary>
/// TLS between silos and from clients (mutual: both ends present a certificate). A remote certificate is
/// accepted only when its thumbprint is pinned: this end's own certificate (a cluster and its clients sharing
/// one certificate trust each other and nothing else) and the trusted thumbprints configured (other client
/// certificates; during a rotation, the next certificate). A certificate a public CA signed is not enough:
/// anyone can have one.
/// </summary>
public static class FreshetTls
{
    /// <summary>
    /// Loads a certificate with its private key: a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>, with
    /// <paramref name="password"/>) or PEM (certificate and key in <paramref name="path"/>, or the key in
    /// <paramref name="keyPath"/>). Errors name <paramref name="key"/>, the setting that gave the path.
    /// </summary>
    public static X509Certificate2 Load(string path, string? keyPath, string? password, string key)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{key}: '{path}' does not exist; give the path of a PKCS#12 (.pfx) or PEM certificate with its private key");
        if (keyPath is not null && !File.Exists(keyPath)) throw new ArgumentException($"{key}Key: '{keyPath}' does not exist; give the PEM file of the certificate's private key");
        X509Certificate2 certificate;
        try
        {
            var extension = Path.GetExtension(path).ToLowerInvariant();
            certificate = extension is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(path, password)
                : X509Certificate2.CreateFromPemFile(path, keyPath ?? path);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{key}: '{path}' is not a certificate with a private key this machine can read ({e.Message}); a .pfx/.p12 needs its password ({key}Password), a PEM file its key ({key}Key)", e);
        }
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"{key}: '{path}' holds a certificate without its private key; TLS needs both");
        }
        return certificate;
    }

    /// <summary>Thumbprints from a comma- or space-separated list (SHA-1 or SHA-256, colons allowed), normalized.</summary>
    public static IReadOnlySet<string> ParseThumbprints(string? list, string key)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in (list ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var t = Normalize(raw);
            if (t.Length is not (40 or 64) || !t.All(Uri.IsHexDigit))
            {
                throw new ArgumentException($"{key}: '{raw}' is not a certificate thumbprint (40 hex digits for SHA-1, 64 for SHA-256)");
            }
            set.Add(t);
        }
        return set;
    }

    /// <summary>
    /// Sets <paramref name="options"/> for mutual TLS with <paramref name="certificate"/>: remote certificates
    /// are required and accepted as the class says.
    /// </summary>
    public static void Configure(TlsOptions options, X509Certificate2 certificate, IReadOnlySet<string> trusted)
    {
        var pinned = new HashSet<string>(trusted, StringComparer.Ordinal) { Normalize(certificate.Thumbprint), Normalize(certificate.GetCertHashString(HashAlgorithmName.SHA256)) };
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, _) => Accept(remote, pinned);
        // Silos are reached by address, not by name: the name in the certificate is not what is checked.
        var host = certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = string.IsNullOrEmpty(host) ? "freshet" : host;
    }

    /// <summary>The certificate's SHA-1 and SHA-256 thumbprints, normalized as <see cref="ParseThumbprints"/> gives them.</summary>
    public static IReadOnlySet<string> ThumbprintsOf(X509Certificate2 certificate) =>
        new HashSet<string>(StringComparer.Ordinal) { Normalize(certificate.Thumbprint), Normalize(certificate.GetCertHashString(HashAlgorithmName.SHA256)) };

    /// <summary>A remote certificate is good when it is pinned (name and chain errors of a self-signed certificate are then not held against it).</summary>
    public static bool Accept(X509Certificate2? remote, IReadOnlySet<string> pinned)
    {
        if (remote is null) return false;
        return pinned.Contains(Normalize(remote.Thumbprint)) || pinned.Contains(Normalize(remote.GetCertHashString(HashAlgorithmName.SHA256)));
    }

    private static string Normalize(string thumbprint) => thumbprint.Replace(":", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
}
