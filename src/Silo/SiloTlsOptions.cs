namespace Freshet.Silo;

/// <summary>TLS between silos and from clients (mutual), who may make admin calls, and the key that tells silos from clients.</summary>
public sealed class SiloTlsOptions
{
    /// <summary>
    /// This silo's certificate, a .pfx/.p12 or PEM file with its private key; empty: plain TCP. Peers and clients
    /// must present a pinned certificate: the same one, or one in <see cref="TlsTrustedThumbprints"/>.
    /// </summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/> when it is not in the same file.</summary>
    public string? TlsCertificateKey { get; set; }

    /// <summary>The password of a .pfx/.p12 <see cref="TlsCertificate"/> (by environment variable, <c>Freshet__Silo__TlsCertificatePassword</c>).</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Certificates trusted besides this silo's own: clients' and, during a rotation, the next one (thumbprints, comma-separated).</summary>
    public string? TlsTrustedThumbprints { get; set; }

    /// <summary>
    /// With TLS on, the certificates whose holders may make admin calls (thumbprints, comma-separated; they
    /// are trusted to connect too). Empty: this silo's own certificate only. Any other trusted client
    /// certificate may score and read status, nothing more.
    /// </summary>
    public string? AdminCertificates { get; set; }

    /// <summary>
    /// The secret every silo of the cluster shares and no client holds: base64 of at least 32 random bytes (e.g.
    /// <c>openssl rand -base64 32</c>), by environment variable (<c>Freshet__Silo__ClusterKey</c>, from a secret store).
    /// Silos prove their calls to each other with it (anything else is a client's call, held to the client doors) and
    /// seal the weights they send serving with it. Required with TLS on; without it (TLS off, a development cluster) the
    /// key is derived from the cluster's names, which are no secret. Changing it is a full restart of the cluster.
    /// </summary>
    public string? ClusterKey { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(TlsCertificate);
}
