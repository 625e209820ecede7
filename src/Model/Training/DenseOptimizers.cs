using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;

namespace Freshet.Model.Training;

/// <summary>
/// The dense tier's optimizers, one per tower: a step on CTR samples must not move the CVR tower
/// (zeroed gradients would still move Adam's moments).
/// </summary>
public sealed class DenseOptimizers
{
    private readonly DenseOptimizer _ctr;
    private readonly DenseOptimizer _cvr;

    public DenseOptimizers(EsmmModel model, ModelSpec spec)
    {
        _ctr = new DenseOptimizer(model.Ctr.parameters(), spec);
        _cvr = new DenseOptimizer(model.Cvr.parameters(), spec);
    }

    public DenseOptimizer Of(TaskKind task) => task == TaskKind.Ctr ? _ctr : _cvr;

    /// <summary>Steps the task's tower with the gradients it holds, then clears them.</summary>
    public void Step(TaskKind task) => Of(task).Step();

    public void Save(BinaryWriter writer)
    {
        _ctr.Save(writer);
        _cvr.Save(writer);
    }

    public void Load(BinaryReader reader)
    {
        _ctr.Load(reader);
        _cvr.Load(reader);
    }
}
