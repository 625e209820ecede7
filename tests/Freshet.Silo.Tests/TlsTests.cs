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
    private readonly string _clusterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public TlsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private (string Path, X509Certificate2 Certificate) Throwaway(string name) => Certificates.Throwaway(_folder, name);

    private IHost Silo(string roles, int siloPort, int gatewayPort, int? primary, string certificate, Action<FreshetSiloOptions>? more = null) =>
        FreshetSilo.CreateBuilder([], o =>
        {
            more?.Invoke(o);
            o.Silo.SiloPort = siloPort;
            o.Silo.GatewayPort = gatewayPort;
            o.Silo.PrimarySiloPort = primary;
            o.Silo.ClusterId = _clusterId;
            o.Silo.Roles = roles;
            o.Local.CheckpointDirectory = Path.Combine(_folder, "checkpoints");
            o.Tls.TlsCertificate = certificate;
            o.Tls.TlsCertificatePassword = Certificates.Password;
            o.Tls.ClusterKey = _clusterKey;
        }).Build();

    private IHost Client(int gatewayPort, string? certificate, string? trusted = null)
    {
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Critical);
        b.AddFreshetClient(o =>
        {
            o.GatewayPort = gatewayPort;
            o.ClusterId = _clusterId;
            o.TlsCertificate = certificate;
            o.TlsCertificatePassword = Certificates.Password;
            o.TlsTrustedThumbprints = trusted;
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
    public async Task With_TLS_admin_calls_take_an_admin_certificate_and_a_scoring_certificate_only_scores_and_reads()
    {
        var cluster = Throwaway("freshet-cluster");
        var scorer = Throwaway("freshet-scorer");
        var operatorCertificate = Throwaway("freshet-operator");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        int port = TestPorts.Free(), gateway = TestPorts.Free();
        // The scorer's certificate is trusted to connect; only the operator's is listed as admin.
        using var silo = Silo("training,serving", port, gateway, null, cluster.Path, o =>
        {
            o.Tls.TlsTrustedThumbprints = scorer.Certificate.Thumbprint;
            o.Tls.AdminCertificates = operatorCertificate.Certificate.GetCertHashString(HashAlgorithmName.SHA256);
        });
        await silo.StartAsync(timeout.Token);

        using (var host = Client(gateway, scorer.Path, cluster.Certificate.Thumbprint))
        {
            await host.StartAsync(timeout.Token);
            var client = host.Services.GetRequiredService<FreshetClient>();
            // It scores (the request reaches the scoring door, which answers that nothing is served) and reads status.
            var unserved = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", [new ScoreRow { Values = new Dictionary<string, string> { ["user"] = "u1" } }]));
            Assert.Contains("model 'shop' has no checkpoint", unserved.Message, StringComparison.Ordinal);
            Assert.Equal("shop", (await client.Deployment("shop").GetStatusAsync()).Model);
            Assert.NotEmpty(await client.GetSilosAsync());
            // It cannot start, stop, roll back or change a mode: each refusal says why and which certificate it takes.
            var spec = new Freshet.Deployments.DeploymentSpec { Model = "shop", SchemaJson = File.ReadAllText(TestData.Schema("synthetic.json")) };
            foreach (var call in new Func<Task>[]
            {
                () => client.StartAsync(spec),
                () => client.StopAsync("shop"),
                () => client.RollbackAsync("shop", 1),
                () => client.SetModeAsync("shop", Freshet.Deployments.Mode.Promotion),
                () => client.StopJobAsync("shop-main"),
            })
            {
                var refused = await Assert.ThrowsAsync<Freshet.Admin.ClientCallRefusedException>(call);
                Assert.Contains("CN=freshet-scorer", refused.Message, StringComparison.Ordinal);
                Assert.Contains("may score and read status but is not an admin certificate; admin calls take a certificate listed in Freshet:Silo:AdminCertificates", refused.Message, StringComparison.Ordinal);
            }
            // The silo goes on serving this client.
            await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", [new ScoreRow { Values = new Dictionary<string, string> { ["user"] = "u1" } }]));
            await host.StopAsync(timeout.Token);
        }

        using (var host = Client(gateway, operatorCertificate.Path, cluster.Certificate.Thumbprint))
        {
            await host.StartAsync(timeout.Token);
            var client = host.Services.GetRequiredService<FreshetClient>();
            // The admin certificate's call is taken: the deployment itself answers (it was never started).
            var answered = await Assert.ThrowsAsync<Freshet.Jobs.JobRequestException>(() => client.StopAsync("shop"));
            Assert.Equal("deployment 'shop' is not started; start it first", answered.Message);
            await host.StopAsync(timeout.Token);
        }

        // An Orleans client built by hand, on the admin certificate's TLS connection but without the SDK's proof: refused.
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Critical);
        b.UseOrleansClient(c =>
        {
            c.UseLocalhostClustering(gateway, FreshetNames.DefaultServiceId, _clusterId);
            c.UseTls(operatorCertificate.Certificate, o => Freshet.Security.FreshetTls.Configure(o, operatorCertificate.Certificate, Freshet.Security.FreshetTls.ThumbprintsOf(cluster.Certificate)));
        });
        using (var raw = b.Build())
        {
            await raw.StartAsync(timeout.Token);
            var orleans = raw.Services.GetRequiredService<Orleans.IClusterClient>();
            var bare = await Assert.ThrowsAsync<Freshet.Admin.ClientCallRefusedException>(() => orleans.GetGrain<Freshet.Deployments.IDeploymentGrain>("shop").StopAsync());
            Assert.StartsWith("IDeploymentGrain.StopAsync: admin calls on this cluster take an admin certificate, and this call came without one", bare.Message, StringComparison.Ordinal);
            await raw.StopAsync(timeout.Token);
        }
        await silo.StopAsync(timeout.Token);
    }

    [Fact]
    public void An_admin_proof_holds_only_for_its_call_its_arguments_and_its_time_and_each_is_new()
    {
        var holder = Throwaway("freshet-operator");
        var now = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
        byte[] arguments = SHA256.HashData("promotion, 1 h"u8), other = SHA256.HashData("daily"u8);
        var proof = Freshet.Admin.AdminProof.Create(holder.Certificate, "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now);
        var check = Freshet.Admin.AdminProof.Verify(proof, "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now.AddMinutes(1));
        Assert.Equal((holder.Certificate.Thumbprint, now), (check.Certificate.Thumbprint, check.Made));
        // Two proofs of the same call differ by their nonces: a silo remembers the nonces it took, not the calls.
        var again = Freshet.Admin.AdminProof.Create(holder.Certificate, "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now);
        Assert.NotEqual(check.Nonce, Freshet.Admin.AdminProof.Verify(again, "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now).Nonce);
        Assert.Contains("signature does not match", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify(proof, "deployment/shop", "IDeploymentGrain.RollbackAsync", arguments, now)).Message, StringComparison.Ordinal);
        Assert.Contains("signature does not match", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify(proof, "deployment/cart", "IDeploymentGrain.SetModeAsync", arguments, now)).Message, StringComparison.Ordinal);
        Assert.Contains("made for other arguments", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify(proof, "deployment/shop", "IDeploymentGrain.SetModeAsync", other, now)).Message, StringComparison.Ordinal);
        // The digest it carries is signed: put the other call's digest in it, and the signature no longer matches.
        var parts = proof.Split('.');
        parts[4] = Convert.ToHexString(other);
        Assert.Contains("signature does not match", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify(string.Join('.', parts), "deployment/shop", "IDeploymentGrain.SetModeAsync", other, now)).Message, StringComparison.Ordinal);
        Assert.Contains("check the clocks", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify(proof, "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now.AddMinutes(6))).Message, StringComparison.Ordinal);
        Assert.Contains("malformed", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => Freshet.Admin.AdminProof.Verify("v1.x", "deployment/shop", "IDeploymentGrain.SetModeAsync", arguments, now)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silo_takes_an_admin_proofs_nonce_once_and_remembers_a_bounded_number_for_the_skew_window()
    {
        var clock = new ManualClock(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc));
        var nonces = new Freshet.Grains.Admin.AdminNonces(clock, capacity: 2);
        var made = clock.GetUtcNow().UtcDateTime;
        nonces.Take("a", made, "IDeploymentGrain.StopAsync");
        Assert.Contains("already used", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => nonces.Take("a", made, "IDeploymentGrain.StopAsync")).Message, StringComparison.Ordinal);
        nonces.Take("b", made, "IDeploymentGrain.StopAsync");
        Assert.Contains("takes no more until they age", Assert.Throws<Freshet.Admin.ClientCallRefusedException>(() => nonces.Take("c", made, "IDeploymentGrain.StopAsync")).Message, StringComparison.Ordinal);
        // Past the skew window every proof made then is refused by its time, so its nonce is forgotten and room is made.
        clock.Now = made + Freshet.Admin.AdminProof.Skew + TimeSpan.FromSeconds(1);
        nonces.Take("c", clock.Now, "IDeploymentGrain.StopAsync");
        Assert.Equal(1, nonces.Count);
    }

    [Fact]
    public void A_missing_or_bad_certificate_fails_the_start_naming_the_key()
    {
        var missing = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Tls.TlsCertificate = Path.Combine(_folder, "none.pfx")));
        Assert.Contains(missing.Failures, f => f.StartsWith("Freshet:Silo:TlsCertificate: '", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));

        var cluster = Throwaway("freshet-cluster");
        var wrongPassword = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o =>
        {
            o.Tls.TlsCertificate = cluster.Path;
            o.Tls.TlsCertificatePassword = "wrong";
            o.Tls.TlsTrustedThumbprints = "not-a-thumbprint";
        }));
        Assert.Contains(wrongPassword.Failures, f => f.StartsWith("Freshet:Silo:TlsCertificate: ", StringComparison.Ordinal) && f.Contains("password", StringComparison.Ordinal));
        Assert.Contains(wrongPassword.Failures, f => f.StartsWith("Freshet:Silo:TlsTrustedThumbprints: 'not-a-thumbprint' is not a certificate thumbprint", StringComparison.Ordinal));
        var withoutKey = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o =>
        {
            o.Tls.TlsCertificate = cluster.Path;
            o.Tls.TlsCertificatePassword = Certificates.Password;
        }));
        Assert.Contains(withoutKey.Failures, f => f.StartsWith("Freshet:Silo:ClusterKey: with TLS on, give every silo the same cluster key", StringComparison.Ordinal));
        var shortKey = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Tls.ClusterKey = Convert.ToBase64String(new byte[16])));
        Assert.Contains(shortKey.Failures, f => f.StartsWith("Freshet:Silo:ClusterKey: 16 bytes; give at least 32", StringComparison.Ordinal));
        var notBase64 = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Tls.ClusterKey = "not a key!"));
        Assert.Contains(notBase64.Failures, f => f.StartsWith("Freshet:Silo:ClusterKey: not base64", StringComparison.Ordinal));
        var adminWithoutTls = Assert.Throws<OptionsValidationException>(() => FreshetSilo.CreateBuilder([], o => o.Tls.AdminCertificates = cluster.Certificate.Thumbprint));
        Assert.Contains(adminWithoutTls.Failures, f => f.StartsWith("Freshet:Silo:AdminCertificates: admin certificates are checked on TLS connections", StringComparison.Ordinal));

        var client = Host.CreateApplicationBuilder();
        var e = Assert.Throws<ArgumentException>(() => client.AddFreshetClient(o => o.TlsCertificate = Path.Combine(_folder, "none.pfx")));
        Assert.StartsWith("Freshet:Client:TlsCertificate: '", e.Message, StringComparison.Ordinal);
    }
}
