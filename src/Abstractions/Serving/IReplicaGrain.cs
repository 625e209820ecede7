using Freshet.Admin;
namespace Freshet.Serving;

/// <summary>
/// Keeps a serving silo's replica of a model on the model's weights stream (key:
/// <c>{model}/{silo}</c>, placed on that silo): applies deltas in order, catches up on gaps, loads
/// announced checkpoints.
/// </summary>
[Alias("Freshet.Serving.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    [Alias("Start")] Task StartAsync();

    [Alias("Deliver")] Task DeliverAsync(WeightMessage message);

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<ReplicaStatus> GetStatusAsync();
}
