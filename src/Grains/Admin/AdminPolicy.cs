namespace Freshet.Grains.Admin;

/// <summary>
/// Who may make admin calls: with TLS on, the thumbprints of the certificates whose holders may
/// (<c>Freshet:Silo:AdminCertificates</c>, SHA-1 or SHA-256, upper-case hex); null when TLS is off. Whether
/// this silo takes admin calls at all is its roles' (<see cref="Placement.SiloRoles.AdminCalls"/>).
/// </summary>
public sealed record AdminPolicy(IReadOnlySet<string>? AdminCertificates = null)
{
    /// <summary>Whether <paramref name="certificate"/> is one of <see cref="AdminCertificates"/>.</summary>
    public bool IsAdmin(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        AdminCertificates is { } admins
        && (admins.Contains(certificate.Thumbprint.ToUpperInvariant())
            || admins.Contains(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToUpperInvariant()));
}
