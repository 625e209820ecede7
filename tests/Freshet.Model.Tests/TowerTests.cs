using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Freshet.Model.Tests;

public class TowerTests
{
    [Fact]
    public void Ctcvr_is_ctr_times_cvr_and_both_towers_carry_batch_norm_statistics()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var layout = FeatureLayout.From(schema);
        using var model = new EsmmModel(layout, schema.Model);
        using var scope = NewDisposeScope();
        model.eval();
        using var _ = no_grad();
        var x = randn(5, layout.InputDim);
        var (ctr, cvr, ctcvr) = model.Predict(x);
        Assert.Equal([5L], ctr.shape);
        var c = ctr.data<float>().ToArray();
        var v = cvr.data<float>().ToArray();
        var cc = ctcvr.data<float>().ToArray();
        for (var i = 0; i < 5; i++) Assert.Equal(c[i] * v[i], cc[i], 6);
        var names = model.StateInOrder().Select(s => s.Name).ToList();
        Assert.Contains(names, n => n.StartsWith("ctr.", StringComparison.Ordinal) && n.EndsWith("running_mean", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("cvr.", StringComparison.Ordinal) && n.EndsWith("running_var", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_models_from_one_schema_start_from_the_same_weights()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var layout = FeatureLayout.From(schema);
        using var a = new EsmmModel(layout, schema.Model);
        using var b = new EsmmModel(layout, schema.Model);
        foreach (var ((na, ta), (nb, tb)) in a.StateInOrder().Zip(b.StateInOrder()))
        {
            Assert.Equal(na, nb);
            Assert.True(ta.eq(tb).all().item<bool>(), na);
        }
    }
}
