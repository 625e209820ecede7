using Freshet.Admin;
namespace Freshet.Serving;

/// <summary>
/// Keeps a serving silo's replica of a model on the model's weights stream (key:
/// <c>{model}/{silo}</c>, placed on that silo): applies deltas in order, catches up on gaps, loads
/// announced checkpoints. What it reads from the stream, and how, is the silos' own (the grain's weights reader).
/// </summary>
[Alias("Freshet.Serving.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    [Alias("Start")] Task StartAsync();

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<ReplicaStatus> GetStatusAsync();
}
