using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;

namespace Freshet.Model.Training;

/// <summary>
/// Where a model's weights live, as seen by the training step: embedding rows pulled and pushed
/// by id, and the dense tier synchronised with the model the step computes on. The in-process
/// store keeps everything in this process; the cluster store keeps rows in shard grains and the
/// dense tier in a layer grain. The same step runs against both.
/// </summary>
public interface IParameterStore : IDisposable
{
    FeatureLayout Layout { get; }

    /// <summary>The model the step runs forward and backward on.</summary>
    EsmmModel ComputeModel { get; }

    /// <summary>
    /// Fills each table's rows for its ids (creating missing rows of tables that train, after
    /// admission) and each rate's input values for its ids.
    /// </summary>
    ValueTask PullRowsAsync(RowBatch batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the sparse optimizer to each training table's rows with the batch's gradients, and
    /// adds the batch's label counts to each counting rate.
    /// </summary>
    ValueTask PushRowGradientsAsync(RowBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Brings <see cref="ComputeModel"/>'s dense weights and batch-norm statistics up to date.</summary>
    ValueTask PullDenseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the gradients held by the task's tower of <see cref="ComputeModel"/>, and its batch-norm
    /// statistics. <paramref name="labelRate"/> is the batch's positive rate: a tower that has never
    /// stepped starts its output bias at that rate's log-odds (see <see cref="Tower.InitializeOutputBias"/>).
    /// </summary>
    /// <remarks><paramref name="step"/> numbers the trainer's steps, so a snapshot can show every part comes from one step.</remarks>
    ValueTask PushDenseAsync(TaskKind task, double labelRate, long step, CancellationToken cancellationToken = default);

    /// <summary>Evicts rows that expired by event time <paramref name="now"/>; returns how many.</summary>
    ValueTask<long> ExpireAsync(long now, CancellationToken cancellationToken = default);

    /// <summary>Rows per table.</summary>
    ValueTask<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken cancellationToken = default);
}
