using Freshet.Client;
using Freshet.Deployments;
using Freshet.Grains.Placement;
using Freshet.Model.Schema;
using Freshet.Silo;
using Freshet.Tools.Output;

namespace Freshet.Drills;

/// <summary>
/// What the serving benchmarks measure on: a training silo and a serving silo in this process, a deployment of the model
/// publishing every interval on the wall clock (its daily checkpoint kept out of the measured window), and a publisher
/// onto its main job's streams.
/// </summary>
internal sealed class TwoSiloDeployment : IAsyncDisposable
{
    private TwoSiloDeployment(LocalCluster cluster, DeploymentSpec spec)
    {
        Cluster = cluster;
        Client = new FreshetClient(cluster.Client);
        Spec = spec;
        Publisher = new SamplePublisher(cluster.Client, spec.JobOf(DeploymentJob.Main), 1);
    }

    public LocalCluster Cluster { get; }

    public FreshetClient Client { get; }

    public DeploymentSpec Spec { get; }

    public SamplePublisher Publisher { get; }

    public static async Task<TwoSiloDeployment> StartAsync(CliContext cli, string folder, string model, FeatureSchema schema, int shards, TimeSpan every, CancellationToken ct)
    {
        await cli.Error.WriteLineAsync("bench: starting a training silo and a serving silo");
        var cluster = await LocalCluster.StartAsync(folder, ct, SiloRoles.TrainingOnly, SiloRoles.ServingOnly);
        var deployment = new TwoSiloDeployment(cluster, new DeploymentSpec
        {
            Model = model, SchemaJson = schema.Json, Shards = shards, PublishInterval = every, Clock = ClockKind.Wall,
            DailyCheckpointAt = DeploymentSpec.DailyCheckpointFarFrom(DateTime.UtcNow),
        });
        try
        {
            await deployment.Client.StartAsync(deployment.Spec);
            return deployment;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
