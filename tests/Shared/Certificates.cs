using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Freshet.Tests;

/// <summary>Linked into every test project: throwaway self-signed certificates for TLS silos and clients.</summary>
public static class Certificates
{
    public const string Password = "throwaway";

    /// <summary>A self-signed certificate for server and client authentication, written to <paramref name="folder"/> as a .pfx with <see cref="Password"/>.</summary>
    public static (string Path, X509Certificate2 Certificate) Throwaway(string folder, string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = System.IO.Path.Combine(folder, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return (path, X509CertificateLoader.LoadPkcs12FromFile(path, Password));
    }
}
