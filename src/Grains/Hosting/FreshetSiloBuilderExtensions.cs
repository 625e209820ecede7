using Freshet.Model.Telemetry;
using Freshet.Model.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Freshet.Grains.Placement;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Freshet.Grains.Checkpoints;
using Freshet.Grains.Persistence;
using Freshet.Grains.Serving;
using Freshet.Grains.Streaming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Freshet.Model.Checkpoints;
using Orleans.Serialization;
using Orleans.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Freshet.Grains.Hosting;

/// <summary>Registers what a Freshet silo needs on an Orleans silo builder.</summary>
public static class FreshetSiloBuilderExtensions
{
    /// <summary>How often the local profile's memory stream pulling agents look for messages.</summary>
    public static readonly TimeSpan MemoryStreamPollPeriod = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long the local profile's memory streams keep a delivered message in their cache: it goes once it has been there this
    /// long and a message this much newer has come. The cache's size is then the stream's rate times this, whatever has been
    /// sent before; a consumer that falls further behind than this would miss what was dropped (producers are throttled to
    /// the trainers, and a memory stream replays nothing anyway).
    /// </summary>
    public static readonly TimeSpan MemoryStreamCacheTime = TimeSpan.FromSeconds(30);

    /// <summary>Admin calls (a checkpoint of a large model) may take minutes; the default 30 s would cut them.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The local profile's providers: in-memory grain storage (or, with <see cref="LocalProfileOptions.StateDirectory"/>,
    /// grain state in files that survive a restart), memory streams, and full checkpoints in
    /// <see cref="LocalProfileOptions.CheckpointDirectory"/>.
    /// </summary>
    public static ISiloBuilder AddFreshetLocal(this ISiloBuilder silo, LocalProfileOptions local, SiloRoles? roles = null)
    {
        silo.Services.AddSingleton(Options.Create(local));
        if (local.StateDirectory is not { } state)
        {
            silo.AddMemoryGrainStorage(FreshetNames.GrainStorage);
            silo.AddMemoryGrainStorage(FreshetNames.PubSubStorage);
        }
        else
        {
            silo.AddDirectoryGrainStorage(FreshetNames.GrainStorage, state);
            silo.AddDirectoryGrainStorage(FreshetNames.PubSubStorage, Path.Combine(state, "pubsub"));
        }
        // Pulling agents look for new messages every 10 ms (Orleans' default: 100 ms). Weights reach the replicas that much
        // sooner after a publish, and samples the trainers; the cost is a cheap local call per queue each period.
        // The cache of what was delivered is kept for MemoryStreamCacheTime, not Orleans' default 30 minutes: a message leaves it
        // only once one 30 minutes newer has come, so at 30,000 samples a second it held gigabytes (the soak drill measured it).
        silo.AddMemoryStreams(FreshetNames.StreamProvider, c =>
        {
            c.ConfigurePullingAgent(ob => ob.Configure(o => o.GetQueueMsgsTimerPeriod = MemoryStreamPollPeriod));
            c.ConfigureCacheEviction(ob => ob.Configure(o => (o.DataMinTimeInCache, o.DataMaxAgeInCache) = (MemoryStreamCacheTime, MemoryStreamCacheTime)));
        });
        return silo.AddFreshetCore(_ => new LocalCheckpointStore(local.CheckpointDirectory), roles);
    }

    /// <summary>
    /// The azurite profile's providers: Azure Table clustering, Azure Blob grain state (Orleans's binary
    /// serializer) and checkpoints, Azure Queue streams; all through one storage connection string.
    /// </summary>
    public static ISiloBuilder AddFreshetAzureStorage(this ISiloBuilder silo, AzuriteProfileOptions azurite, SiloRoles? roles = null)
    {
        silo.Services.AddSingleton(Options.Create(azurite));
        var layout = AzureStorageLayout.Default;
        var connection = azurite.ConnectionString;
        silo.UseAzureStorageClustering(o =>
        {
            o.TableServiceClient = new TableServiceClient(connection);
            o.TableName = layout.ClusteringTable;
        });
        silo.AddFreshetAzureGrainState(() => new BlobServiceClient(connection), layout);
        silo.Services.AddSingleton(WeightChunking.AzureQueue);
        silo.AddAzureQueueStreams(FreshetNames.StreamProvider, c =>
        {
            c.ConfigureAzureQueue(ob => ob.Configure(o =>
            {
                o.QueueServiceClient = new QueueServiceClient(connection);
                o.QueueNames = [.. layout.QueueNames];
            }));
            c.ConfigurePullingAgent(ob => ob.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(100)));
        });
        return silo.AddFreshetCore(_ => new AzureBlobCheckpointStore(new BlobContainerClient(connection, layout.CheckpointContainer, AzureBlobCheckpointStore.ClientOptions())), roles);
    }

    /// <summary>
    /// The azure profile's providers: the same services as the azurite profile's, reached by endpoint URI
    /// with a token credential (managed identity; no keys), Orleans streams on an Event Hub, and one more
    /// Event Hubs stream provider per samples hub whose plain JSON events <see cref="JsonSampleDataAdapter"/> maps to sample streams.
    /// </summary>
    public static ISiloBuilder AddFreshetAzure(this ISiloBuilder silo, AzureProfileOptions azure, SiloRoles? roles = null)
    {
        silo.Services.AddSingleton(Options.Create(azure));
        var layout = AzureStorageLayout.Default;
        var credential = azure.Credential();
        silo.UseAzureStorageClustering(o =>
        {
            o.TableServiceClient = new TableServiceClient(azure.TableUri, credential);
            o.TableName = layout.ClusteringTable;
        });
        silo.AddFreshetAzureGrainState(() => new BlobServiceClient(azure.BlobUri, credential), layout);
        silo.AddEventHubStreams(FreshetNames.StreamProvider, c => ConfigureEventHub(c, azure, credential, azure.StreamsHub));
        // Plain JSON producers' hubs: one provider per hub, so the hub says the task; the adapter maps events to sample streams.
        var routing = new SampleRouting(new Dictionary<string, int>(azure.SampleJobs, StringComparer.Ordinal));
        // Their receivers start where Freshet's hub checkpoints say: Orleans' delivery commits, or a restore's rewind.
        silo.Services.AddSingleton(sp => new HubCheckpoints(
            new TableServiceClient(azure.TableUri, credential).GetTableClient(layout.HubCheckpointsTable),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId, TimeSpan.FromSeconds(10), sp.GetRequiredService<ILogger<HubCheckpoints>>()));
        var sampleHubs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (provider, hub, task) in new[] { (SampleStreamProviders.CtrSamples, azure.CtrSamplesHub, TaskKind.Ctr), (SampleStreamProviders.CvrSamples, azure.CvrSamplesHub, TaskKind.Cvr) })
        {
            sampleHubs[hub] = provider;
            silo.AddEventHubStreams(provider, c =>
            {
                c.ConfigureEventHub(ob => ob.Configure(o => o.ConfigureEventHubConnection(azure.EventHubsNamespace!, hub, azure.ConsumerGroup, credential)));
                c.ConfigureCheckpointer<HubCheckpointOptions>((sp, name) => new HubCheckpointerFactory(sp.GetRequiredService<HubCheckpoints>(), name), _ => { });
                c.UseDataAdapter((sp, _) => new JsonSampleDataAdapter(sp.GetRequiredService<Serializer>(), hub, task, routing, sp.GetRequiredService<FreshetInstruments>(), sp.GetRequiredService<ILogger<JsonSampleDataAdapter>>()));
            });
        }
        silo.Services.AddSingleton(sp => new SampleHubRewinder(sp.GetRequiredService<HubCheckpoints>(), sampleHubs, sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ILogger<SampleHubRewinder>>()));
        silo.Services.AddSingleton(SampleStreamProviders.EventHubs);
        // Labels from production as plain JSON (docs/PRODUCERS.md): routed to label streams, and on to the joiners.
        silo.AddEventHubStreams(Feedback.LabelStreamProviders.LabelsHub, c =>
        {
            ConfigureEventHub(c, azure, credential, azure.LabelsHub);
            c.UseDataAdapter((sp, _) => new JsonLabelDataAdapter(sp.GetRequiredService<Serializer>(), azure.LabelsHub, sp.GetRequiredService<FreshetInstruments>(), sp.GetRequiredService<ILogger<JsonLabelDataAdapter>>()));
        });
        silo.Services.AddSingleton(Feedback.LabelStreamProviders.EventHubs);
        return silo.AddFreshetCore(_ => new AzureBlobCheckpointStore(new BlobServiceClient(azure.BlobUri, credential, AzureBlobCheckpointStore.ClientOptions()).GetBlobContainerClient(layout.CheckpointContainer)), roles);
    }

    private static void ConfigureEventHub(ISiloEventHubStreamConfigurator c, AzureProfileOptions azure, Azure.Core.TokenCredential credential, string hub)
    {
        c.ConfigureEventHub(ob => ob.Configure(o => o.ConfigureEventHubConnection(azure.EventHubsNamespace!, hub, azure.ConsumerGroup, credential)));
        c.UseAzureTableCheckpointer(ob => ob.Configure(o =>
        {
            o.TableServiceClient = new TableServiceClient(azure.TableUri, credential);
            o.TableName = "freshetcheckpoints";
            o.PersistInterval = TimeSpan.FromSeconds(10);
        }));
    }

    /// <summary>Grain state (jobs, the changing and dense tiers, stream subscriptions) in Azure Blob storage, with Orleans's binary serializer.</summary>
    public static ISiloBuilder AddFreshetAzureGrainState(this ISiloBuilder silo, Func<BlobServiceClient> blobs, AzureStorageLayout layout)
    {
        foreach (var name in new[] { FreshetNames.GrainStorage, FreshetNames.PubSubStorage })
        {
            silo.AddAzureBlobGrainStorage(name, (OptionsBuilder<AzureBlobStorageOptions> ob) => ob.Configure<IServiceProvider>((o, sp) =>
            {
                o.BlobServiceClient = blobs();
                o.ContainerName = layout.StateContainer;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>());
            }));
        }
        return silo;
    }

    /// <summary>Grain state in files under <paramref name="folder"/> (see <see cref="DirectoryGrainStorage"/>).</summary>
    public static ISiloBuilder AddDirectoryGrainStorage(this ISiloBuilder silo, string name, string folder)
    {
        silo.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new DirectoryGrainStorage(folder, sp.GetRequiredService<Serializer>()));
        return silo;
    }

    /// <summary>What every profile shares: the checkpoint store, the silo's roles and serving replicas, time, and message timeouts.</summary>
    public static ISiloBuilder AddFreshetCore(this ISiloBuilder silo, Func<IServiceProvider, ICheckpointStore> checkpoints, SiloRoles? roles = null)
    {
        silo.Services.AddSingleton(checkpoints);
        // The strongly consistent in-cluster grain directory. With Orleans' default (eventually consistent) directory, a
        // silo's death loses its directory partition, and activations on the surviving silos that were registered there
        // are started again: killing a serving silo restarted the training silo's trainers (counters from zero, buffered
        // samples lost; `freshet drill load`). This directory recovers the partition from the survivors. Every silo of a
        // cluster must use the same directory: moving a cluster to it is a full restart, not a rolling one.
#pragma warning disable ORLEANSEXP003 // marked experimental in Orleans 10
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        roles ??= SiloRoles.Both;
        silo.Services.AddSingleton(roles);
        silo.Services.TryAddSingleton(WeightChunking.Default);
        silo.Services.AddSingleton<Jobs.DeltaPublisher>();
        silo.Services.TryAddSingleton(SampleStreamProviders.Default);
        silo.Services.TryAddSingleton(Feedback.LabelStreamProviders.Default);
        // Limits of what arrives and what is held (a host binds them from Freshet:Silo; a test cluster takes the defaults).
        silo.Services.AddOptions<SiloLimitsOptions>();
        silo.Services.AddSingleton<IValidateOptions<SiloLimitsOptions>, SiloLimitsOptionsValidator>();
        silo.Services.AddSingleton<WireClock>();
        silo.Services.AddSingleton<ServingRegistry>();
        silo.Services.AddSingleton<HeapCompactor>();
        silo.Services.AddSingleton<ServingWarmUp>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ServingWarmUp>());
        silo.Services.AddSingleton<ServingScorer>();
        silo.Services.AddSingleton<Feedback.PredictionLogger>();
        // Instruments from the host's meter factory: this silo's own, exported by the host, told apart by scope in tests.
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton<FreshetInstruments>();
        // Who is a client: a call without a silo's proof, made with the cluster key (configured by the host, or derived from
        // the cluster's names when it gives none). Clients reach the cluster only through its doors; a silo may refuse admin
        // calls (serving-only silos). Weights travel sealed with the same key.
        silo.Services.TryAddSingleton(sp =>
        {
            var cluster = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            return Admin.ClusterKey.FromNames(cluster.ServiceId, cluster.ClusterId);
        });
        silo.Services.AddSingleton<Admin.SiloCallProof>();
        silo.Services.AddSingleton(sp => new Admin.AdminNonces(sp.GetRequiredService<TimeProvider>()));
        silo.Services.AddSingleton<Weights.WeightsChannel>();
        silo.Services.TryAddSingleton(new Admin.AdminPolicy());
        silo.AddOutgoingGrainCallFilter<Admin.SiloCallProofFilter>();
        silo.AddIncomingGrainCallFilter<Admin.ClientCallFilter>();
        // Roles travel as silo metadata: training grains are placed on training silos, scoring finds serving silos.
        silo.UseSiloMetadata(new Dictionary<string, string> { [RoleMetadata.Key] = roles.ToString(), [RoleMetadata.AdminKey] = roles.AdminCalls ? "true" : "false" });
#pragma warning disable ORLEANSEXP004
        silo.Services.AddPlacementFilter<TrainingSiloFilter, TrainingSiloFilterDirector>(ServiceLifetime.Transient);
        silo.Services.AddPlacementFilter<AdminSiloFilter, AdminSiloFilterDirector>(ServiceLifetime.Transient);
#pragma warning restore ORLEANSEXP004
        silo.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        silo.AddPlacementDirector<SpreadPlacement, SpreadPlacementDirector>();
        // A host (or a test on a simulated clock) may bring its own clock.
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout);
        return silo;
    }
}
