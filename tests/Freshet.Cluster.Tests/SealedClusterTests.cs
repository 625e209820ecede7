using System.Reflection;
using Freshet.Admin;
using Freshet.Client;
using Freshet.Deployments;
using Freshet.Feedback;
using Freshet.Grains.Admin;
using Freshet.Grains.Serving;
using Freshet.Grains.Weights;
using Freshet.Model.Checkpoints;
using Freshet.Model.Schema;
using Freshet.Model.Serving;
using Freshet.Samples;
using Freshet.Serving;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Freshet.Cluster.Tests;

/// <summary>
/// A client holding only a scoring certificate, against a cluster as production runs it (<see cref="SealedCluster"/>):
/// it may score, read status, report labels and publish samples; nothing else it tries reaches grain code, and nothing it
/// writes changes what serving answers.
/// </summary>
public sealed class SealedClusterTests(SealedCluster cluster, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<SealedCluster>
{
    /// <summary>
    /// The doors a scoring certificate opens: scoring, status reads, labels and samples, and what the Orleans client
    /// itself needs (the cluster's manifest, the list of silos). Written out here, not read from the product's rule.
    /// </summary>
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "Freshet.Serving.IScoringGrain.ScoreAsync/1",
        "Freshet.Serving.IScoringGrain.ScoreSamplesAsync/2",
        "Freshet.Serving.IScoringGrain.ScoreBatchAsync/1",
        "Freshet.Serving.IScoringGrain.GetReplicaAsync/1",
        "Freshet.Serving.IServingSiloGrain.GetRolesAsync/0",
        "Freshet.Serving.IServingSiloGrain.ScoreAsync/1",
        "Freshet.Serving.IServingSiloGrain.ScoreSamplesAsync/2",
        "Freshet.Serving.IServingSiloGrain.ScoreBatchAsync/1",
        "Freshet.Serving.IServingSiloGrain.GetReplicaAsync/1",
        "Freshet.Serving.IReplicaGrain.GetStatusAsync/0",
        "Freshet.Deployments.IDeploymentGrain.GetStatusAsync/0",
        "Freshet.Jobs.ITrainingOrchestratorGrain.GetStatusAsync/0",
        "Freshet.Jobs.ITrainerGrain.GetStatusAsync/0",
        "Freshet.Jobs.ITrainerGrain.GetReportJsonAsync/0",
        "Freshet.Jobs.ITrainerGrain.GetDeliveredAsync/1",
        "Freshet.Parameters.IEmbeddingShardGrain.GetStatusAsync/0",
        "Freshet.Parameters.IDenseGrain.GetStatusAsync/0",
        "Freshet.Feedback.IJoinerGrain.GetStatusAsync/0",
        "Freshet.Feedback.IJoinerGrain.LabelAsync/1",
        "Freshet.Samples.ISampleIntakeGrain.PublishAsync/3",
        "Orleans.Runtime.IManagementGrain.GetHosts/2",
    };

    /// <summary>Interfaces open as a whole: the cluster's manifest (grain types and interfaces), which an Orleans client reads to connect.</summary>
    private static readonly string[] AllowedInterfaces = ["Orleans.Runtime.IClusterManifestSystemTarget."];

    private static bool IsAllowed(string door) => Allowed.Contains(door) || AllowedInterfaces.Any(i => door.StartsWith(i, StringComparison.Ordinal));

    [Fact]
    public async Task A_scoring_certificate_opens_only_its_doors_and_writes_on_no_stream_and_serving_answers_as_before()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        using var host = cluster.RawClient(cluster.ServingGateway, cluster.Scorer.Certificate);
        await host.StartAsync(timeout.Token);
        var attacker = host.Services.GetRequiredService<IClusterClient>();
        var scorer = new FreshetClient(attacker);
        var before = await scorer.ScoreAsync(SealedCluster.Model, SealedCluster.Rows);
        var replicaAtStart = Assert.Single((await cluster.Admin.GetStatusAsync(SealedCluster.Model)).Replicas);
        var servedBefore = replicaAtStart.Weights!.Value;
        Assert.All(before, p => Assert.Equal(servedBefore, p.Weights));

        // Every problem is collected, so one run says all that is wrong.
        var problems = new List<string>();

        // 1. Every stream namespace, through the cluster's own provider, registered by this client under its name.
        var streams = attacker.GetStreamProvider(FreshetNames.StreamProvider);
        var store = cluster.Checkpoints;
        var template = await ServingReplica.ReadDeltaAsync(store, SealedCluster.Model, servedBefore.Checkpoint, CheckpointFiles.Delta(1), CancellationToken.None);
        var forged = new WeightDelta
        {
            Model = SealedCluster.Model, Version = new WeightsVersion(servedBefore.Checkpoint, servedBefore.Delta + 1), SnapshotUtc = DateTime.UtcNow,
            Tables = [.. template.Tables.Select(t => t with { Weights = [.. t.Weights.Select(_ => 5f)] })], Dense = template.Dense,
        };
        var forgedBytes = forged.Encode();
        var writes = new (string Stream, Func<Task> Write)[]
        {
            ($"weights/{SealedCluster.Model} delta", () => streams.GetStream<WeightMessage>(StreamId.Create("weights", SealedCluster.Model)).OnNextAsync(new WeightMessage
                { Kind = WeightMessageKind.Delta, Model = SealedCluster.Model, Weights = forged.Version, Chunk = 0, Chunks = 1, Payload = forgedBytes, SnapshotUtc = forged.SnapshotUtc })),
            ($"weights/{SealedCluster.Model} revert", () => streams.GetStream<WeightMessage>(StreamId.Create("weights", SealedCluster.Model)).OnNextAsync(new WeightMessage
                { Kind = WeightMessageKind.Revert, Model = SealedCluster.Model, Weights = new WeightsVersion(servedBefore.Checkpoint), SnapshotUtc = DateTime.UtcNow })),
            ($"samples/{SealedCluster.Job}/0/ctr", () => streams.GetStream<SampleBatch>(SampleStreams.Id(SealedCluster.Job, 0, Model.Data.TaskKind.Ctr)).OnNextAsync(new SampleBatch { EndOfStream = true })),
            ("labels/app", () => streams.GetStream<LabelBatch>(LabelStreams.Id("app/1")).OnNextAsync(new LabelBatch { Labels = [] })),
            ("elsewhere/x", () => streams.GetStream<string>(StreamId.Create("elsewhere", "x")).OnNextAsync("x")),
        };
        var written = new List<string>();
        foreach (var (stream, write) in writes)
        {
            try
            {
                await write().WaitAsync(TimeSpan.FromSeconds(10));
                written.Add(stream);
            }
            catch (ClientCallRefusedException e)
            {
                Assert.Contains("FreshetClient", e.Message, StringComparison.Ordinal);
            }
        }
        problems.AddRange(written.Select(w => $"written by a scoring certificate: stream {w}"));

        // 2. Every grain interface and system target, with the keys the cluster uses and fresh ones.
        var silos = new[] { cluster.Training.Services, cluster.Serving.Services };
        var replica = attacker.Replica(SealedCluster.Model, cluster.ServingSilo).GetGrainId();
        var trainer = attacker.Trainer(SealedCluster.Job, 0).GetGrainId();
        var known = cluster.Training.Services.GetRequiredService<IClusterManifestProvider>().Current.AllGrainManifests.SelectMany(m => m.Grains.Keys).ToHashSet();
        var doors = SealProbe.Doors(silos, [replica, trainer], attacker, KeyOf).Where(d => d.Target.Type.IsSystemTarget() || known.Contains(d.Target.Type)).ToList();
        var outcomes = await SealProbe.KnockAsync(attacker, doors, TimeSpan.FromSeconds(10));
        // A one-way call has no answer: give them all until a deadline to reach a silo's filters (one that fails to
        // activate its grain never does, and is not let through either).
        var oneWays = outcomes.Where(o => o.Attempt.OneWay && !o.Skipped).ToList();
        try
        {
            await Wait.Until(() => oneWays.All(o => cluster.Probe.Arrived.Tags.ContainsKey(o.Attempt.Tag)), "every one-way call to reach a silo", TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        var accepted = outcomes.Where(o => cluster.Probe.Accepted.Tags.ContainsKey(o.Attempt.Tag)).ToList();
        var open = accepted.Where(o => !IsAllowed(o.Attempt.Door)).Select(o => o.Attempt.Tag).ToList();
        var unarrived = oneWays.Count(o => !cluster.Probe.Arrived.Tags.ContainsKey(o.Attempt.Tag));
        var summary = $"{outcomes.Count} calls ({oneWays.Count} one-way, {unarrived} of them never reached a filter) on {outcomes.Select(o => o.Attempt.Door).Distinct().Count()} doors; {accepted.Count} reached grain code, {open.Count} of them outside the allowlist";
        output.WriteLine(summary);
        problems.AddRange(open.Select(tag => $"open to a scoring certificate: {tag}"));
        // Each refusal is the boundary's, and says what to call instead.
        var refused = outcomes.Where(o => !o.Skipped && !o.Attempt.OneWay && !IsAllowed(o.Attempt.Door) && cluster.Probe.Arrived.Tags.ContainsKey(o.Attempt.Tag)).ToList();
        Assert.NotEmpty(refused);
        problems.AddRange(refused.Where(o => o.Error is not ClientCallRefusedException { Message: var m } || !m.Contains("FreshetClient", StringComparison.Ordinal))
            .Select(o => $"not refused by the boundary: {o.Attempt.Tag}: {o.Error?.GetType().Name ?? "answered"} {o.Error?.Message}"));

        // 3. Serving answers as before, from the same weights; the trainer still trains.
        var after = await scorer.ScoreAsync(SealedCluster.Model, SealedCluster.Rows);
        if (!before.Select(p => (p.Ctr, p.Cvr, p.Weights)).SequenceEqual(after.Select(p => (p.Ctr, p.Cvr, p.Weights))))
        {
            problems.Add($"serving answers differently: before {string.Join(", ", before.Select(p => $"{p.Ctr} on {p.Weights}"))}, after {string.Join(", ", after.Select(p => $"{p.Ctr} on {p.Weights}"))}");
        }
        var served = Assert.Single((await cluster.Admin.GetStatusAsync(SealedCluster.Model)).Replicas).Weights;
        if (served != servedBefore) problems.Add($"the replica moved from {servedBefore} to {served}");
        var job = cluster.Admin.Job(SealedCluster.Job);
        var trainerStatus = (await job.GetStatusAsync()).Trainers[0];
        if (trainerStatus.Error is not null || trainerStatus.Completed) problems.Add($"the trainer stopped: {trainerStatus.State} {trainerStatus.Error}");

        // 4. The next real delta, sent on the weights stream after anything the client could have put there, is the one
        // served: applied once, not taken for a duplicate of a forged one, not refused.
        var next = await job.PublishAsync();
        try
        {
            await PublishingTests.WaitAsync(async () => (await cluster.Admin.GetStatusAsync(SealedCluster.Model)).Replicas.Single().Weights == next.Weights, $"serving holds {next.Weights}");
        }
        catch (TimeoutException e)
        {
            problems.Add(e.Message);
        }
        var replicaAfter = Assert.Single((await cluster.Admin.GetStatusAsync(SealedCluster.Model)).Replicas);
        if ((replicaAfter.Applied, replicaAfter.Duplicates, replicaAfter.Refused) != (replicaAtStart.Applied + 1, replicaAtStart.Duplicates, replicaAtStart.Refused))
        {
            problems.Add($"the real delta {next.Weights} was not simply applied: applied {replicaAtStart.Applied} -> {replicaAfter.Applied}, duplicates {replicaAtStart.Duplicates} -> {replicaAfter.Duplicates}, refused {replicaAtStart.Refused} -> {replicaAfter.Refused}");
        }
        Assert.True(problems.Count == 0, $"{summary}; {problems.Count} problems:\n{string.Join("\n", problems)}");
        await host.StopAsync(timeout.Token);
    }

    /// <summary>A client that names itself as a silo's hosted client does ("hosted-..."): still a client.</summary>
    [Fact]
    public async Task A_client_that_claims_a_silos_own_client_id_is_still_a_client()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var details = Type.GetType("Orleans.LocalClientDetails, Orleans.Core", throwOnError: true)!;
        using var host = cluster.RawClient(cluster.ServingGateway, cluster.Scorer.Certificate, services: s => s.AddSingleton(details, sp =>
        {
            var forged = Activator.CreateInstance(details, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClientMessagingOptions>>())!;
            var id = details.GetProperty("ClientId")!.PropertyType; // ClientGrainId, internal to Orleans
            var hosted = id.GetMethod("Create", [typeof(string)])!.Invoke(null, ["hosted-forged"]);
            details.GetField("<ClientId>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(forged, hosted);
            return forged;
        }));
        await host.StartAsync(timeout.Token);
        var client = host.Services.GetRequiredService<IClusterClient>();
        var e = await Assert.ThrowsAsync<ClientCallRefusedException>(() => client.GetGrain<IServingVersionGrain>(SealedCluster.Model).GetGuardAsync());
        Assert.Contains("FreshetClient", e.Message, StringComparison.Ordinal);
        await host.StopAsync(timeout.Token);
    }

    /// <summary>
    /// An admin proof taken from an operator's call (as anyone who saw one could) cannot be sent again, nor sent with other
    /// arguments: the proof covers the call's arguments, and the silo remembers the proofs it took.
    /// </summary>
    [Fact]
    public async Task An_admin_proof_replayed_or_reused_with_other_arguments_is_refused()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var catcher = new ProofCatcher();
        using var operatorHost = cluster.SdkClient(cluster.TrainingGateway, cluster.Operator.Path, after: b => b.Services.AddSingleton<IOutgoingGrainCallFilter>(catcher));
        await operatorHost.StartAsync(timeout.Token);
        var admin = operatorHost.Services.GetRequiredService<FreshetClient>();
        // The operator's own call is taken: the deployment answers that it is not started.
        var taken = await Assert.ThrowsAsync<Freshet.Jobs.JobRequestException>(() => admin.SetModeAsync("replayed", Mode.Daily));
        Assert.Equal("deployment 'replayed' is not started; start it first", taken.Message);
        var used = catcher.Last!;
        // A proof made for a call that was never sent.
        catcher.Hold = true;
        await Assert.ThrowsAsync<OperationCanceledException>(() => admin.SetModeAsync("replayed", Mode.Daily));
        catcher.Hold = false;
        var unsent = catcher.Last!;
        Assert.NotEqual(used, unsent);

        // Another client (a scoring certificate, no signing of its own) sends the proofs it saw.
        using var host = cluster.RawClient(cluster.TrainingGateway, cluster.Scorer.Certificate);
        await host.StartAsync(timeout.Token);
        var deployment = host.Services.GetRequiredService<IClusterClient>().GetGrain<IDeploymentGrain>("replayed");
        async Task<Exception> WithProof(string proof, Func<Task> call)
        {
            RequestContext.Set(AdminProof.Key, proof);
            try
            {
                return await Assert.ThrowsAnyAsync<Exception>(call);
            }
            finally
            {
                RequestContext.Remove(AdminProof.Key);
            }
        }
        var replayed = Assert.IsType<ClientCallRefusedException>(await WithProof(used, () => deployment.SetModeAsync(Mode.Daily)));
        Assert.Contains("was already used", replayed.Message, StringComparison.Ordinal);
        var otherArguments = Assert.IsType<ClientCallRefusedException>(await WithProof(unsent, () => deployment.SetModeAsync(Mode.Promotion, TimeSpan.FromHours(1))));
        Assert.Contains("arguments", otherArguments.Message, StringComparison.Ordinal);
        await host.StopAsync(timeout.Token);
        await operatorHost.StopAsync(timeout.Token);
    }

    /// <summary>
    /// What a silo sends: its proof on every call to a grain, a system target or a silo's own client, made for that method
    /// and good for a while under this cluster's key only; and no proof on a call to a client, whatever proof the call it
    /// is serving came with.
    /// </summary>
    [Fact]
    public async Task A_silos_calls_carry_its_proof_and_its_calls_to_clients_never_do()
    {
        var services = cluster.Serving.Services;
        var proofs = services.GetRequiredService<SiloCallProof>();
        var filter = new SiloCallProofFilter(proofs, services.GetRequiredService<IClusterMembershipService>());
        async Task<string?> SentTo(GrainId target)
        {
            var call = new OutgoingCall(target);
            RequestContext.Set(SiloCallProof.Key, "the proof of the call being served");
            try
            {
                await filter.Invoke(call);
            }
            finally
            {
                RequestContext.Remove(SiloCallProof.Key);
            }
            return call.Proof;
        }
        var client = GrainType.Create("sys.client");
        var toGrain = await SentTo(GrainId.Create("replica", "m/x"));
        Assert.True(proofs.Verify(toGrain!, OutgoingCall.Interface, OutgoingCall.Method));
        Assert.True(proofs.Verify((await SentTo(GrainId.Create(client, "hosted-" + cluster.ServingSilo.ToParsableString())))!, OutgoingCall.Interface, OutgoingCall.Method));
        Assert.Null(await SentTo(GrainId.Create(client, Guid.NewGuid().ToString("N"))));
        Assert.Null(await SentTo(GrainId.Create(client, "hosted-127.0.0.1:1@1")));
        Assert.Null(await SentTo(GrainId.Create(client, "hosted-not-a-silo")));

        Assert.False(proofs.Verify(toGrain!, OutgoingCall.Interface, "StopAsync"));
        Assert.False(proofs.Verify("1." + toGrain!.Split('.')[1], OutgoingCall.Interface, OutgoingCall.Method));
        var key = services.GetRequiredService<ClusterKey>();
        var later = new ManualClock(DateTime.UtcNow + SiloCallProof.MaxAge + TimeSpan.FromMinutes(1));
        Assert.False(new SiloCallProof(key, later).Verify(toGrain!, OutgoingCall.Interface, OutgoingCall.Method));
        var otherCluster = ClusterKey.FromSetting(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), "test");
        Assert.False(new SiloCallProof(otherCluster, TimeProvider.System).Verify(toGrain!, OutgoingCall.Interface, OutgoingCall.Method));
        Assert.True(key.Configured);
    }

    /// <summary>A call leaving a silo, as far as its outgoing filters see it: its target and method; it keeps the proof it was sent with.</summary>
    private sealed class OutgoingCall(GrainId target) : IOutgoingGrainCallContext
    {
        public const string Interface = "Freshet.Serving.IReplicaGrain";
        public const string Method = "GetStatusAsync";

        public string? Proof { get; private set; }

        public IGrainContext? SourceContext => null;
        public Orleans.Serialization.Invocation.IInvokable Request => throw new NotSupportedException();
        public object Grain => throw new NotSupportedException();
        public GrainId? SourceId => null;
        public GrainId TargetId => target;
        public GrainInterfaceType InterfaceType => GrainInterfaceType.Create(Interface);
        public string InterfaceName => Interface;
        public string MethodName => Method;
        public MethodInfo InterfaceMethod => typeof(IReplicaGrain).GetMethod(nameof(IReplicaGrain.GetStatusAsync))!;
        public object? Result { get; set; }
        public Orleans.Serialization.Invocation.Response? Response { get; set; }

        public Task Invoke()
        {
            Proof = RequestContext.Get(SiloCallProof.Key) as string;
            return Task.CompletedTask;
        }
    }

    /// <summary>Keeps the admin proof of each call the client sends; with <see cref="Hold"/>, stops the call before it leaves.</summary>
    private sealed class ProofCatcher : IOutgoingGrainCallFilter
    {
        public string? Last { get; private set; }

        public bool Hold { get; set; }

        public Task Invoke(IOutgoingGrainCallContext context)
        {
            if (RequestContext.Get(AdminProof.Key) is string proof)
            {
                Last = proof;
                if (Hold) throw new OperationCanceledException("held back by the test");
            }
            return context.Invoke();
        }
    }

    /// <summary>A key for a grain interface the cluster has no activation of: the names this cluster uses.</summary>
    private string KeyOf(Type contract) => contract.Name switch
    {
        "ITrainerGrain" => $"{SealedCluster.Job}/0",
        "ITrainingOrchestratorGrain" or "ISampleIntakeGrain" => SealedCluster.Job,
        "IEmbeddingShardGrain" or "IJoinerGrain" => $"{SealedCluster.Model}/0",
        "IReplicaGrain" => new ReplicaKey(SealedCluster.Model, cluster.ServingSilo).ToString(),
        "IServingSiloGrain" => cluster.ServingSilo.ToParsableString(),
        "ILabelRouterGrain" => "app/1",
        _ => SealedCluster.Model,
    };
}
