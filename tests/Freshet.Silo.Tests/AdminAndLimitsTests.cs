using Freshet.Model.Serving;
using Freshet.Model.Data;
using System.Net.Sockets;
using Freshet.Admin;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Grains.Serving;
using Freshet.Jobs;
using Freshet.Parameters;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Freshet.Silo.Tests;

/// <summary>Admin calls refused on a silo that does not take them, and the limits of scoring and admin calls, on two real silos.</summary>
public sealed class AdminAndLimitsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "freshet-admin-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _clusterId = "admin-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private IHost Silo(string roles, bool admin, int siloPort, int gatewayPort, int? primary) =>
        FreshetSilo.CreateBuilder([], o =>
        {
            o.Silo.SiloPort = siloPort;
            o.Silo.GatewayPort = gatewayPort;
            o.Silo.PrimarySiloPort = primary;
            o.Silo.ClusterId = _clusterId;
            o.Silo.Roles = roles;
            o.Silo.AdminCalls = admin;
            o.Local.CheckpointDirectory = Path.Combine(_folder, "checkpoints");
        }).Build();

    private IHost Client(int gatewayPort)
    {
        var b = Host.CreateApplicationBuilder();
        b.Logging.SetMinimumLevel(LogLevel.Critical);
        b.AddFreshetClient(o =>
        {
            o.GatewayPort = gatewayPort;
            o.ClusterId = _clusterId;
        });
        return b.Build();
    }

    [Fact]
    public async Task A_serving_silo_without_admin_calls_refuses_them_and_every_call_is_held_to_its_limits()
    {
        int trainingPort = TestPorts.Free(), trainingGateway = TestPorts.Free(), servingPort = TestPorts.Free(), servingGateway = TestPorts.Free();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var training = Silo("training", admin: true, trainingPort, trainingGateway, null);
        await training.StartAsync(timeout.Token);
        using var serving = Silo("serving", admin: false, servingPort, servingGateway, trainingPort);
        await serving.StartAsync(timeout.Token);
        // Placement on the serving silo needs the training silo's roles, which silos exchange after joining.
        var trainingSilo = training.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
#pragma warning disable ORLEANSEXP004
        var servingMetadata = serving.Services.GetRequiredService<Orleans.Runtime.MembershipService.SiloMetadata.ISiloMetadataCache>();
        await Wait.Until(() => servingMetadata.GetSiloMetadata(trainingSilo).Metadata.ContainsKey(Freshet.Grains.Placement.RoleMetadata.Key), "the serving silo to know the training silo's roles");
#pragma warning restore ORLEANSEXP004

        using (var host = Client(servingGateway))
        {
            await host.StartAsync(timeout.Token);
            var client = host.Services.GetRequiredService<FreshetClient>();
            // Through the serving silo's gateway, an admin call goes to the deployment grain, which lives on the
            // training silo (the one that takes admin calls): the deployment itself answers (it was never started).
            var answered = await Assert.ThrowsAsync<Freshet.Jobs.JobRequestException>(() => client.StopAsync("shop"));
            Assert.Equal("deployment 'shop' is not started; start it first", answered.Message);
            Assert.Equal("shop", (await client.Deployment("shop").GetStatusAsync()).Model);

            // Every Freshet grain method but scoring, status reads and job and deployment calls refuses a client, naming what to call.
            var servingSilo = serving.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress;
            var holes = new (string Method, Func<Task> Call)[]
            {
                ("IEmbeddingShardGrain.PushAsync", () => client.Cluster.GetGrain<IEmbeddingShardGrain>("shop/0").PushAsync(new RowPush { Job = "shop-main", Trainer = "t", Step = 1 })),
                ("IEmbeddingShardGrain.LoadCheckpointAsync", () => client.Cluster.GetGrain<IEmbeddingShardGrain>("shop/0").LoadCheckpointAsync(1)),
                ("IDenseGrain.PushAsync", () => client.Cluster.GetGrain<IDenseGrain>("shop").PushAsync(new DensePush { Trainer = "t", Step = 1, Task = TaskKind.Ctr })),
                ("ITrainerGrain.StopAsync", () => client.Cluster.GetGrain<ITrainerGrain>("shop-main/0").StopAsync()),
                ("IWeightsReader.DeliverAsync", () => client.Cluster.GetGrain<Freshet.Grains.Weights.IWeightsReader>(new ReplicaKey("shop", servingSilo).ToString()).DeliverAsync(new Freshet.Grains.Weights.WeightMessage { Kind = Freshet.Grains.Weights.WeightMessageKind.Checkpoint, Model = "shop", Weights = new WeightsVersion(7) })),
                ("IReplicaGrain.StartAsync", () => client.Cluster.Replica("shop", servingSilo).StartAsync()),
                ("IServingVersionGrain.SetAsync", () => client.Cluster.GetGrain<IServingVersionGrain>("shop").SetAsync(7)),
            };
            foreach (var (method, call) in holes)
            {
                var hole = await Assert.ThrowsAsync<ClientCallRefusedException>(call);
                Assert.StartsWith($"{method} on '", hole.Message, StringComparison.Ordinal);
                Assert.Contains("is not open to clients: score through IScoringGrain (FreshetClient.ScoreAsync)", hole.Message, StringComparison.Ordinal);
            }
            // Orleans's management grain: a client lists the silos, and nothing more.
            Assert.Equal(2, (await client.GetSilosAsync()).Count);
            var management = await Assert.ThrowsAsync<ClientCallRefusedException>(() => client.Cluster.GetGrain<IManagementGrain>(0).ForceGarbageCollection([]));
            Assert.StartsWith("IManagementGrain.ForceGarbageCollection on '0' is not open to clients (Orleans' own plumbing, for silos only): score through IScoringGrain", management.Message, StringComparison.Ordinal);
            // The silo goes on answering: status, and scoring (nothing is served yet, and it says so).
            Assert.Equal("shop", (await client.Deployment("shop").GetStatusAsync()).Model);
            var unserved = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", [new ScoreRow { Values = new Dictionary<string, string> { ["user"] = "u1" } }]));
            Assert.Contains("model 'shop' has no checkpoint", unserved.Message, StringComparison.Ordinal);

            // Scoring limits, checked by the client and again by the silo for callers that skip the client.
            var longValue = new ScoreRow { Values = new Dictionary<string, string> { ["user"] = new string('u', ScoreRequest.MaxValueLength + 1) } };
            var e = await Assert.ThrowsAsync<ScoringRequestException>(() => client.ScoreAsync("shop", [longValue]));
            Assert.Equal($"model 'shop': row 0: field 'user' has a value of {ScoreRequest.MaxValueLength + 1} characters; at most {ScoreRequest.MaxValueLength}", e.Message);
            var wide = new ScoreRow { Values = Enumerable.Range(0, ScoreRequest.MaxFields + 1).ToDictionary(i => $"f{i}", _ => "x") };
            var server = await Assert.ThrowsAsync<ScoringRequestException>(() => client.Cluster.GetGrain<IScoringGrain>(0).ScoreAsync(new ScoreRequest { Model = "shop", Rows = [wide] }));
            Assert.Equal($"model 'shop': row 0 has {ScoreRequest.MaxFields + 1} fields; at most {ScoreRequest.MaxFields}", server.Message);
            await host.StopAsync(timeout.Token);
        }

        using (var host = Client(trainingGateway))
        {
            await host.StartAsync(timeout.Token);
            var client = host.Services.GetRequiredService<FreshetClient>();
            // Through the training silo's gateway too, and held to their limits, by the client and by the silo.
            var answered = await Assert.ThrowsAsync<Freshet.Jobs.JobRequestException>(() => client.StopAsync("shop"));
            Assert.Equal("deployment 'shop' is not started; start it first", answered.Message);
            var badName = await Assert.ThrowsAsync<ArgumentException>(() => client.StopJobAsync("shop/../etc"));
            Assert.Equal("job 'shop/../etc': the character '/' is not allowed; a name is 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or a digit", badName.Message);
            var aroundTheClient = await Assert.ThrowsAsync<ArgumentException>(() => client.Cluster.Job("shop/../etc").StopAsync());
            Assert.Equal(badName.Message, aroundTheClient.Message);
            var hugeSchema = new DeploymentSpec { Model = "shop", SchemaJson = new string(' ', Freshet.Admin.AdminLimits.MaxSchemaLength + 1) };
            var tooBig = await Assert.ThrowsAsync<JobRequestException>(() => client.Cluster.GetGrain<IDeploymentGrain>("shop").StartAsync(hugeSchema));
            Assert.Contains($"schemaJson: {Freshet.Admin.AdminLimits.MaxSchemaLength + 1} characters; at most {Freshet.Admin.AdminLimits.MaxSchemaLength}", tooBig.Message, StringComparison.Ordinal);
            await host.StopAsync(timeout.Token);
        }

        await serving.StopAsync(timeout.Token);
        await training.StopAsync(timeout.Token);
    }
}
