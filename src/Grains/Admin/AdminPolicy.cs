namespace Freshet.Grains.Admin;

/// <summary>
/// Whether this silo's admin front door takes calls (<c>Freshet:Silo:AdminCalls</c>), and, with TLS on, the
/// thumbprints of the certificates whose holders may make them (<c>Freshet:Silo:AdminCertificates</c>,
/// SHA-1 or SHA-256, upper-case hex); null when TLS is off.
/// </summary>
public sealed record AdminPolicy(bool Enabled, IReadOnlySet<string>? AdminCertificates = null)
{
    /// <summary>Whether <paramref name="certificate"/> is one of <see cref="AdminCertificates"/>.</summary>
    public bool IsAdmin(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        AdminCertificates is { } admins
        && (admins.Contains(certificate.Thumbprint.ToUpperInvariant())
            || admins.Contains(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToUpperInvariant()));

    /// <summary>Names and ids the admin calls take: jobs and models name folders and blobs.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Characters of a schema carried by a job or deployment spec.</summary>
    public const int MaxSchemaLength = 1 << 20;

    public static void CheckName(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{what}: give a name");
        if (name.Length > MaxNameLength) throw new ArgumentException($"{what} '{name[..32]}...': {name.Length} characters; at most {MaxNameLength}");
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new ArgumentException($"{what} '{name}': the character '{c}' is not allowed; use letters, digits, '-', '_' and '.'");
            }
        }
    }

    public static void CheckSchema(string? schemaJson, string what)
    {
        if (schemaJson is { Length: > MaxSchemaLength }) throw new ArgumentException($"{what}: the schema has {schemaJson.Length} characters; at most {MaxSchemaLength}");
    }
}
