using Freshet.Grains.Placement;
using Freshet.Grains.Hosting;
using Freshet.Grains.Weights;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Freshet.Cluster.Tests;

/// <summary>An Orleans in-process test cluster with Freshet's local providers and a temporary checkpoint folder.</summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private ClusterHarness(InProcessTestCluster cluster, string checkpoints)
    {
        Cluster = cluster;
        CheckpointFolder = checkpoints;
    }

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    /// <summary>
    /// Grains as the first silo's own code reaches them (its hosted client): for tests that inspect or drive
    /// grains a client may not call (shards, the dense tier, replicas). A client calls only what is open to it.
    /// </summary>
    public IGrainFactory Grains => Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// The cluster's stream provider as the first silo's own code writes on it: for tests that put samples, labels or
    /// weights on a stream directly. A client registers no stream provider, and Orleans' stream plumbing refuses clients.
    /// </summary>
    public Orleans.Streams.IStreamProvider Streams => Cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>().GetStreamProvider(FreshetNames.StreamProvider);

    /// <summary>
    /// Moves a grain's activation to <paramref name="target"/> as silo code does (the test cluster's own <c>MigrateAsync</c>
    /// calls the grain's management extension from the test's client, which the client boundary refuses).
    /// </summary>
    public async Task MigrateAsync(IAddressable grain, Orleans.Runtime.SiloAddress target)
    {
        var deactivated = Cluster.WaitForDeactivationAsync(grain);
        Orleans.Runtime.RequestContext.Set(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, target);
        try
        {
            await Grains.GetGrain(grain.GetGrainId()).Cast<Orleans.Core.Internal.IGrainManagementExtension>().MigrateOnIdle();
        }
        finally
        {
            Orleans.Runtime.RequestContext.Remove(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey);
        }
        await deactivated;
    }

    /// <summary>The weights channel as the silos seal with it: a message delivered to a replica directly must be sealed.</summary>
    public WeightsChannel WeightsChannel => Cluster.Silos[0].ServiceProvider.GetRequiredService<WeightsChannel>();

    /// <summary>A model's replica on <paramref name="silo"/>, as the weights stream reaches it (silo code, sealed messages only).</summary>
    public IWeightsReader WeightsReader(string model, Orleans.Runtime.SiloAddress silo) => Grains.GetGrain<IWeightsReader>(new ReplicaKey(model, silo).ToString());

    public string CheckpointFolder { get; }

    public LocalCheckpointStore Checkpoints => new(Path.Combine(CheckpointFolder, "checkpoints"));

    /// <param name="silos">Silos to start.</param>
    /// <param name="durableState">Keep grain state in files shared by the silos (survives a silo's loss), instead of in memory.</param>
    /// <param name="roles">Each silo's roles by its name (<c>Silo_0</c>, <c>Silo_1</c>, ...); default both.</param>
    /// <param name="limits">The silos' limits (clock skew, models held), when not the defaults.</param>
    /// <param name="maxMessageBytes">Orleans' largest message body, on the silos and the client, when not its 100 MB.</param>
    public static async Task<ClusterHarness> StartAsync(short silos = 1, bool durableState = false, Func<string, SiloRoles>? roles = null, Action<SiloLimitsOptions>? limits = null,
        int? maxMessageBytes = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "freshet-cluster-" + Guid.NewGuid().ToString("N"));
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddFreshetLocal(new LocalProfileOptions { CheckpointDirectory = Path.Combine(folder, "checkpoints"), StateDirectory = durableState ? Path.Combine(folder, "state") : null }, roles?.Invoke(options.SiloName));
            if (limits is not null) silo.Services.Configure(limits);
            if (maxMessageBytes is { } max) silo.Configure<Orleans.Configuration.SiloMessagingOptions>(o => o.MaxMessageBodySize = max);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddSingleton<IOutgoingGrainCallFilter, TestHooksAsSilo>();
            if (maxMessageBytes is { } max) client.Configure<Orleans.Configuration.ClientMessagingOptions>(o => o.MaxMessageBodySize = max);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClusterHarness(cluster, folder);
    }

    /// <summary>
    /// Starts a deployment of the synthetic schema through the client (publishing every second, its daily checkpoint
    /// half a day away), trains its main job on <paramref name="samples"/> synthetic samples and waits until
    /// <paramref name="replicas"/> serving silos hold the model. Returns the spec it started.
    /// </summary>
    public async Task<Freshet.Deployments.DeploymentSpec> ServeAsync(string model, Feedback.FeedbackSpec? feedback = null, int samples = 3_000, int replicas = 1,
        TimeSpan? persistInterval = null, int shards = 2, string schemaFile = "synthetic.json", string? schemaJson = null)
    {
        var client = new Freshet.Client.FreshetClient(Client);
        var schema = schemaJson is null ? Freshet.Model.Schema.SchemaLoader.Load(TestData.Schema(schemaFile)) : Freshet.Model.Schema.SchemaLoader.Parse(schemaJson, schemaFile);
        var spec = new Freshet.Deployments.DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = shards, PublishInterval = TimeSpan.FromSeconds(1), Feedback = feedback,
            PersistInterval = persistInterval ?? TimeSpan.FromSeconds(30),
            DailyCheckpointAt = Freshet.Deployments.DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
        };
        await client.StartAsync(spec);
        var stream = Freshet.Model.Data.SampleReader.Open(schema, Freshet.Model.Data.SampleReader.SyntheticData).Read(samples).ToList();
        await new Freshet.Client.SamplePublisher(Client, spec.JobOf(Freshet.Deployments.DeploymentJob.Main), 1).PublishAsync(stream, end: false);
        await PublishingTests.WaitAsync(async () => (await client.GetStatusAsync(model)).Replicas.Count(r => r.Weights is not null) >= replicas, $"{replicas} serving silo(s) hold model {model}");
        return spec;
    }

    /// <summary>A job's grain as a client calls it (admin calls, checked by the client boundary).</summary>
    public ITrainingOrchestratorGrain Job(string name) => new Freshet.Client.FreshetClient(Client).Job(name);

    /// <summary>
    /// The test cluster's own hooks (it waits on them for its silos to see each other) are called as a silo calls: with a
    /// silo's proof, under the key a cluster given none derives from its names. Every other call of the test's client is a
    /// client's, held to the client doors.
    /// </summary>
    private sealed class TestHooksAsSilo(Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions> cluster) : IOutgoingGrainCallFilter
    {
        private readonly Freshet.Grains.Admin.SiloCallProof _proofs = new(Freshet.Grains.Admin.ClusterKey.FromNames(cluster.Value.ServiceId, cluster.Value.ClusterId), TimeProvider.System);

        public async Task Invoke(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType?.Name == "ITestHooks") Orleans.Runtime.RequestContext.Set(Freshet.Grains.Admin.SiloCallProof.Key, _proofs.Create(context.InterfaceName, context.MethodName));
            await context.Invoke();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try { Directory.Delete(CheckpointFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
