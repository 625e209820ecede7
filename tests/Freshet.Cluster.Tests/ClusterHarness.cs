using Freshet.Grains.Hosting;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Model.Checkpoints;
using Orleans.Hosting;
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
            client.AddMemoryStreams(FreshetNames.StreamProvider);
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
        TimeSpan? persistInterval = null, int shards = 2)
    {
        var client = new Freshet.Client.FreshetClient(Client);
        var schema = Freshet.Model.Schema.SchemaLoader.Load(TestData.Schema("synthetic.json"));
        var spec = new Freshet.Deployments.DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = shards, PublishInterval = TimeSpan.FromSeconds(1), Feedback = feedback,
            PersistInterval = persistInterval ?? TimeSpan.FromSeconds(30),
            DailyCheckpointAt = TimeSpan.FromHours(Math.Floor((DateTime.UtcNow.TimeOfDay.TotalHours + 12) % 24)),
        };
        await client.StartAsync(spec);
        var stream = Freshet.Model.Data.SampleReader.Open(schema, Freshet.Model.Data.SampleReader.SyntheticData).Read(samples).ToList();
        await new Freshet.Client.SamplePublisher(Client, spec.JobOf(Freshet.Deployments.DeploymentJob.Main), 1).PublishAsync(stream, end: false);
        await PublishingTests.WaitAsync(async () => (await client.GetStatusAsync(model)).Replicas.Count(r => r.Weights is not null) >= replicas, $"{replicas} serving silo(s) hold model {model}");
        return spec;
    }

    /// <summary>A job's grain as a client calls it (admin calls, checked by the client boundary).</summary>
    public ITrainingOrchestratorGrain Job(string name) => new Freshet.Client.FreshetClient(Client).Job(name);

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try { Directory.Delete(CheckpointFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
