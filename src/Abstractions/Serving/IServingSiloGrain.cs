using Freshet.Admin;
namespace Freshet.Serving;

/// <summary>
/// A silo's front door for serving (key: the silo's address, <c>SiloAddress.ToParsableString()</c>;
/// always activated on that silo): its roles, scoring from its replica, its replica's status.
/// </summary>
[Alias("Freshet.Serving.IServingSiloGrain")]
public interface IServingSiloGrain : IGrainWithStringKey
{
    [ClientCallable(ClientAccess.Read), Alias("GetRoles")] Task<SiloRoleInfo> GetRolesAsync();

    [ClientCallable(ClientAccess.Score), Alias("Score")] Task<IReadOnlyList<Prediction>> ScoreAsync(ScoreRequest request);

    /// <summary>As <see cref="IScoringGrain.ScoreBatchAsync"/>, on this silo's replica.</summary>
    [ClientCallable(ClientAccess.Score), Alias("ScoreBatch")] Task<ScoreAnswer> ScoreBatchAsync(ScoreBatch batch);

    [ClientCallable(ClientAccess.Score), Alias("ScoreSamples")] Task<IReadOnlyList<Prediction>> ScoreSamplesAsync(string model, Freshet.Samples.SampleBatch samples);

    /// <summary>This silo's replica of the model, loading it if it was not (null on a silo without the serving role).</summary>
    [ClientCallable(ClientAccess.Read), Alias("GetReplica")] Task<ReplicaStatus?> GetReplicaAsync(string model);
}
