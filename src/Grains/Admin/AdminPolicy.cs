namespace Freshet.Grains.Admin;

/// <summary>
/// Whether this silo takes admin calls from clients to the grains it hosts (<c>Freshet:Silo:AdminCalls</c>;
/// job and deployment grains are placed on silos that do, see <see cref="Placement.AdminSiloAttribute"/>),
/// and, with TLS on, the thumbprints of the certificates whose holders may make them
/// (<c>Freshet:Silo:AdminCertificates</c>, SHA-1 or SHA-256, upper-case hex); null when TLS is off.
/// </summary>
public sealed record AdminPolicy(bool Enabled, IReadOnlySet<string>? AdminCertificates = null)
{
    /// <summary>Whether <paramref name="certificate"/> is one of <see cref="AdminCertificates"/>.</summary>
    public bool IsAdmin(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        AdminCertificates is { } admins
        && (admins.Contains(certificate.Thumbprint.ToUpperInvariant())
            || admins.Contains(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToUpperInvariant()));
}
