using System.Security.Cryptography.X509Certificates;
using Freshet.Client;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Serving;
using Freshet.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Cluster.Tests;

/// <summary>
/// A cluster as production runs it, on two real silos in this process: mutual TLS, a training silo that takes admin
/// calls and a serving silo that does not, an operator's certificate (admin) and a scorer's (trusted to connect, not
/// admin). A job has trained model <see cref="Model"/> and published it once: serving holds a checkpoint and delta 1.
/// The silos carry <see cref="SealProbe"/>'s recorders.
/// </summary>
public sealed class SealedCluster : IAsyncLifetime
{
    public const string Model = "sealed";
    public const string Job = "sealed-main";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "freshet-sealed-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _clusterId = "sealed-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IHost> _hosts = [];

    /// <summary>The silos' shared secret (no client holds it).</summary>
    private readonly string _clusterKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public SealProbe Probe { get; } = new();

    public IHost Training { get; private set; } = null!;

    public IHost Serving { get; private set; } = null!;

    public int TrainingGateway { get; private set; }

    public int ServingGateway { get; private set; }

    public (string Path, X509Certificate2 Certificate) ClusterCertificate { get; private set; }

    public (string Path, X509Certificate2 Certificate) Scorer { get; private set; }

    public (string Path, X509Certificate2 Certificate) Operator { get; private set; }

    /// <summary>The operator's SDK client (admin calls signed with its certificate).</summary>
    public FreshetClient Admin { get; private set; } = null!;

    public LocalCheckpointStore Checkpoints => new(Path.Combine(_folder, "checkpoints"));

    public SiloAddress ServingSilo => Serving.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    /// <summary>What a client scores on: rows whose category serving has trained.</summary>
    public static readonly IReadOnlyList<ScoreRow> Rows =
    [
        ScoreRow.Of(("user", "u-1"), ("item", "i-1"), ("category", "c3"), ("device", "d1"), ("price", "12.5")),
        ScoreRow.Of(("user", "u-2"), ("item", "i-2"), ("category", "c7"), ("device", "d4"), ("price", "80")),
    ];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        ClusterCertificate = Certificates.Throwaway(_folder, "freshet-cluster");
        Scorer = Certificates.Throwaway(_folder, "freshet-scorer");
        Operator = Certificates.Throwaway(_folder, "freshet-operator");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        int trainingPort = TestPorts.Free(), servingPort = TestPorts.Free();
        TrainingGateway = TestPorts.Free();
        ServingGateway = TestPorts.Free();
        Training = Silo("training", admin: true, trainingPort, TrainingGateway, null);
        await Training.StartAsync(timeout.Token);
        Serving = Silo("serving", admin: false, servingPort, ServingGateway, trainingPort);
        await Serving.StartAsync(timeout.Token);
        var trainingSilo = Training.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
#pragma warning disable ORLEANSEXP004
        var servingMetadata = Serving.Services.GetRequiredService<Orleans.Runtime.MembershipService.SiloMetadata.ISiloMetadataCache>();
        await Wait.Until(() => servingMetadata.GetSiloMetadata(trainingSilo).Metadata.ContainsKey(Freshet.Grains.Placement.RoleMetadata.Key), "the serving silo to know the training silo's roles");
#pragma warning restore ORLEANSEXP004

        var admin = SdkClient(TrainingGateway, Operator.Path);
        await admin.StartAsync(timeout.Token);
        Admin = admin.Services.GetRequiredService<FreshetClient>();

        var schema = SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var job = Admin.Job(Job);
        await job.CreateAsync(new JobSpec { Model = Model, SchemaJson = schema.Json, Shards = 2 });
        await job.StartAsync();
        var samples = SampleReader.Open(schema, SampleReader.SyntheticData).Read(6_000).ToList();
        await new SamplePublisher(Admin.Cluster, Job, 1).PublishAsync(samples, end: false);
        await PublishingTests.WaitTrainedAsync(job, samples.Count);
        await job.PauseAsync();
        var published = await job.PublishAsync();
        await PublishingTests.WaitAsync(async () => (await Admin.GetStatusAsync(Model)).Replicas.Any(r => r.Weights == published.Weights), $"serving holds {published.Weights}");
    }

    /// <summary>A silo of this cluster: TLS on the cluster's certificate, the scorer's certificate trusted, the operator's admin.</summary>
    private IHost Silo(string roles, bool admin, int siloPort, int gatewayPort, int? primary)
    {
        var builder = FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = siloPort;
            o.Silo.GatewayPort = gatewayPort;
            o.Silo.PrimarySiloPort = primary;
            o.Silo.ClusterId = _clusterId;
            o.Silo.Roles = roles;
            o.Silo.AdminCalls = admin;
            o.Local.CheckpointDirectory = Path.Combine(_folder, "checkpoints");
            o.Tls.TlsCertificate = ClusterCertificate.Path;
            o.Tls.TlsCertificatePassword = Certificates.Password;
            o.Tls.TlsTrustedThumbprints = Scorer.Certificate.Thumbprint;
            o.Tls.AdminCertificates = Operator.Certificate.Thumbprint;
            o.Tls.ClusterKey = _clusterKey;
        });
        builder.Logging.ClearProviders();
        // First and last of the silo's incoming filters: what arrived, and what went through to grain code.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IIncomingGrainCallFilter>(Probe.Arrived));
        builder.Services.AddSingleton<IIncomingGrainCallFilter>(Probe.Accepted);
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }

    /// <summary>A client as the SDK builds it, with <paramref name="certificate"/>.</summary>
    public IHost SdkClient(int gatewayPort, string certificate, Action<IHostApplicationBuilder>? after = null)
    {
        var b = Host.CreateApplicationBuilder();
        b.Logging.ClearProviders();
        b.AddFreshetClient(o =>
        {
            o.GatewayPort = gatewayPort;
            o.ClusterId = _clusterId;
            o.TlsCertificate = certificate;
            o.TlsCertificatePassword = Certificates.Password;
            o.TlsTrustedThumbprints = ClusterCertificate.Certificate.Thumbprint;
        });
        after?.Invoke(b);
        var host = b.Build();
        _hosts.Add(host);
        return host;
    }

    /// <summary>
    /// An Orleans client built by hand, as a hostile one would be: TLS with <paramref name="certificate"/>, the cluster's
    /// stream provider registered under its name, anything else <paramref name="more"/> adds.
    /// </summary>
    public IHost RawClient(int gatewayPort, X509Certificate2 certificate, Action<IClientBuilder>? more = null, Action<IServiceCollection>? services = null)
    {
        var b = Host.CreateApplicationBuilder();
        b.Logging.ClearProviders();
        services?.Invoke(b.Services);
        b.UseOrleansClient(c =>
        {
            c.UseLocalhostClustering(gatewayPort, FreshetNames.DefaultServiceId, _clusterId);
            c.UseTls(certificate, o => Freshet.Security.FreshetTls.Configure(o, certificate, Freshet.Security.FreshetTls.ThumbprintsOf(ClusterCertificate.Certificate)));
            c.AddMemoryStreams(FreshetNames.StreamProvider);
            more?.Invoke(c);
        });
        var host = b.Build();
        _hosts.Add(host);
        return host;
    }

    public async Task DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                await _hosts[i].StopAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
            }
            _hosts[i].Dispose();
        }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
