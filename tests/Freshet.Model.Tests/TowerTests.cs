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

    [Fact]
    public void With_dot_interactions_a_tower_reads_every_pair_of_equal_width_embeddings_dot_product()
    {
        // user, item and the history bag are 4 wide, category 3: the three 4-wide fields interact (3 pairs).
        var schema = Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"dot\" }"));
        var layout = FeatureLayout.From(schema);
        Assert.Equal([layout.IdFields[0].Offset, layout.IdFields[1].Offset, layout.BagFields[0].Offset], layout.InteractionOffsets);
        Assert.Equal(4, layout.InteractionWidth);
        Assert.Empty(FeatureLayout.From(Schemas.Parse(Schemas.GradientCheck)).InteractionOffsets);

        // A tower with no hidden layer is linear in what it reads: weights of 1 on the dots only give their sum.
        using var tower = new Tower("t", layout.DeepDim, [], 0.3, interactionOffsets: layout.InteractionOffsets, interactionWidth: layout.InteractionWidth);
        using var scope = NewDisposeScope();
        tower.eval();
        using var _ = no_grad();
        var weights = tower.parameters().ToList();
        foreach (var w in weights) w.zero_();
        var body = tower.named_parameters().Single(p => p.name == "body.out.weight").parameter;
        body.narrow(1, layout.DeepDim, 3).fill_(1.0f);
        var x = randn(4, layout.DeepDim);
        var logits = tower.call(x).data<float>().ToArray();
        var rows = x.data<float>().ToArray();
        for (var r = 0; r < 4; r++)
        {
            float Dot(int a, int b)
            {
                float sum = 0;
                for (var k = 0; k < 4; k++) sum += rows[r * layout.DeepDim + a + k] * rows[r * layout.DeepDim + b + k];
                return sum;
            }
            var (u, i, h) = (layout.InteractionOffsets[0], layout.InteractionOffsets[1], layout.InteractionOffsets[2]);
            Assert.Equal(Dot(u, i) + Dot(u, h) + Dot(i, h), logits[r], 4);
        }
    }

    [Fact]
    public void An_unknown_interactions_value_is_refused_naming_the_choices()
    {
        var e = Assert.ThrowsAny<Exception>(() => Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"cross9\" }")));
        Assert.Contains("cross9", e.Message);
        Assert.Contains("dot", e.Message);
    }
}
