using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Freshet.Client;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Freshet.Silo.Tests;

/// <summary>TLS between two silos and from clients, with a throwaway self-signed certificate.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "freshet-tls-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _clusterId = "tls-" + Guid.NewGuid().ToString("N")[..8];

    public TlsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A self-signed certificate for server and client authentication, written as a .pfx with a password.</summary>
    private (string Path, X509Certificate2 Certificate) Throwaway(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(_folder, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "throwaway"));
        return (path, X509CertificateLoader.LoadPkcs12FromFile(path, "throwaway"));
    }

    private IHost Silo(string roles, int siloPort, int gatewayPort, int? primary, string certificate) =>
        FreshetSilo.CreateBuilder([], o =>
        {
            o.SiloPort = siloPort;
            o.GatewayPort = gatewayPort;
            o.PrimarySiloPort = primary;
            o.ClusterId = _clusterId;
            o.Roles = roles;
            o.CheckpointDirectory = Path.Combine(_folder, "checkpoints");
            o.TlsCertificate = certificate;
            o.TlsCertificatePassword = "throwaway";
        }).Build();

    private IHost Client(int gatewayPort, string? certificate)
    {
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Critical);
        b.AddFreshetClient(o =>
        {
            o.GatewayPort = gatewayPort;
            o.ClusterId = _clusterId;
            o.TlsCertificate = certificate;
            o.TlsCertificatePassword = "throwaway";
            o.ConnectTimeout = TimeSpan.FromSeconds(3);
        });
        return b.Build();
    }

    [Fact]
    public async Task Silos_and_clients_talk_over_mutual_TLS_and_a_plain_or_unknown_client_is_refused()
    {
        var cluster = Throwaway("freshet-cluster");
        var stranger = Throwaway("freshet-stranger");
        int trainingPort = TestPorts.Free(), trainingGateway = TestPorts.Free(), servingPort = TestPorts.Free(), servingGateway = TestPorts.Free();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var training = Silo("training", trainingPort, trainingGateway, null, cluster.Path);
        await training.StartAsync(timeout.Token);
        using var serving = Silo("serving", servingPort, servingGateway, trainingPort, cluster.Path);
        await serving.StartAsync(timeout.Token);

        // The gateway speaks TLS and shows the cluster's certificate; it accepts a client showing it too.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, trainingGateway, timeout.Token);
            X509Certificate? shown = null;
            await using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => (shown = c) is not null);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "freshet-cluster",
                ClientCertificates = [cluster.Certificate],
            }, timeout.Token);
            Assert.True(ssl.IsEncrypted);
            Assert.Equal(cluster.Certificate.Thumbprint, new X509Certificate2(shown!).Thumbprint);
        }

        // A TLS client sees both silos (the second joined the first over TLS) and a call crosses them:
        // the training silo forwards scoring to the serving silo, whose answer comes back.
        using (var client = Client(trainingGateway, cluster.Path))
        {
            await client.StartAsync(timeout.Token);
            var freshet = client.Services.GetRequiredService<FreshetClient>();
            var silos = await freshet.GetSilosAsync();
            Assert.Equal(2, silos.Count);
            var e = await Assert.ThrowsAsync<ScoringRequestException>(() => freshet.ScoreAsync("nothing-served", [new ScoreRow { Values = new Dictionary<string, string> { ["user"] = "u1" } }]));
            Assert.Contains("model 'nothing-served' has no checkpoint", e.Message, StringComparison.Ordinal);
            await client.StopAsync(timeout.Token);
        }

        // Plain TCP, and TLS with a certificate the cluster does not trust, cannot connect.
        foreach (var certificate in new[] { null, stranger.Path })
        {
            using var refused = Client(servingGateway, certificate);
            await Assert.ThrowsAnyAsync<Exception>(() => refused.StartAsync(timeout.Token));
        }

        await serving.StopAsync(timeout.Token);
        await training.StopAsync(timeout.Token);
        Assert.False(timeout.IsCancellationRequested);
    }

    [Fact]
    public void A_missing_or_bad_certificate_fails_the_start_naming_the_key()
    {
        var missing = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.TlsCertificate = Path.Combine(_folder, "none.pfx")));
        Assert.Contains(missing.Failures, f => f.StartsWith("Freshet:Silo:TlsCertificate: '", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));

        var cluster = Throwaway("freshet-cluster");
        var wrongPassword = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o =>
        {
            o.TlsCertificate = cluster.Path;
            o.TlsCertificatePassword = "wrong";
            o.TlsTrustedThumbprints = "not-a-thumbprint";
        }));
        Assert.Contains(wrongPassword.Failures, f => f.StartsWith("Freshet:Silo:TlsCertificate: ", StringComparison.Ordinal) && f.Contains("password", StringComparison.Ordinal));
        Assert.Contains(wrongPassword.Failures, f => f.StartsWith("Freshet:Silo:TlsTrustedThumbprints: 'not-a-thumbprint' is not a certificate thumbprint", StringComparison.Ordinal));

        var client = Host.CreateApplicationBuilder();
        var e = Assert.Throws<ArgumentException>(() => client.AddFreshetClient(o => o.TlsCertificate = Path.Combine(_folder, "none.pfx")));
        Assert.StartsWith("Freshet:Client:TlsCertificate: '", e.Message, StringComparison.Ordinal);
    }
}
