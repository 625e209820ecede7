using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Tests.Support;
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
    public async Task Attention_pooling_starts_as_the_mean_of_the_values_and_its_unit_learns_from_the_first_step()
    {
        var mean = Schemas.Parse(Schemas.GradientCheck);
        var attending = Schemas.Parse(Schemas.GradientCheck.Replace("\"maxLength\": 5 }", "\"maxLength\": 5, \"pooling\": \"attention\" }"));
        var meanLayout = FeatureLayout.From(mean);
        var layout = FeatureLayout.From(attending);
        var a = Assert.Single(layout.AttentionFields);
        Assert.Equal((meanLayout.InputDim + 5 * 5, 5, 4), (layout.InputDim, a.Length, a.Width));
        Assert.Equal(layout.IdFields[1].Offset, a.TargetOffset); // the item: the first id field in the history's table
        using var plain = new EsmmModel(meanLayout, mean.Model);
        using var model = new EsmmModel(layout, attending.Model);
        using (var scope = NewDisposeScope())
        {
            plain.eval();
            model.eval();
            using var _ = no_grad();
            // Three rows with 2, 5 and 0 values: the mean model reads their mean in the bag's columns, the attending one the slots.
            var x = randn(3, layout.InputDim);
            var lengths = new[] { 2, 5, 0 };
            var bag = meanLayout.BagFields[0];
            var values = x.narrow(1, a.SlotsOffset, a.Length * a.Width).view(3, a.Length, a.Width);
            var mask = zeros(3, a.Length);
            for (var r = 0; r < 3; r++) mask[r].narrow(0, 0, lengths[r]).fill_(1);
            x.narrow(1, a.MaskOffset, a.Length).copy_(mask);
            var meanInput = x.narrow(1, 0, meanLayout.InputDim).clone();
            meanInput.narrow(1, bag.Offset, bag.Width).copy_((values * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim: true).clamp_min(1));
            x.narrow(1, bag.Offset, bag.Width).fill_(0);
            var expected = plain.Ctr.call(meanInput).data<float>().ToArray();
            var actual = model.Ctr.call(x).data<float>().ToArray();
            for (var r = 0; r < 3; r++) Assert.Equal(expected[r], actual[r], 5);
        }
        // One step: the unit's output layer moves off 0 (its inputs are not 0), so the weights come to depend on the candidate.
        using var store = new Training.InProcessParameterStore(attending);
        var step = new Training.TrainingStep(store, Training.Strategy.All);
        var batch = Enumerable.Range(0, 8).Select(i => new Sample
        {
            Task = TaskKind.Ctr, Time = 1, Label = i % 2,
            Ids = [(ulong)(i % 3 + 1), (ulong)(i % 4 + 10), 7UL],
            Bags = [[.. Enumerable.Range(0, i % 5 + 1).Select(k => (ulong)(10 + (i + k) % 4))]],
            Numerics = [i / 8f],
        }).ToList();
        await step.RunAsync(batch, TaskKind.Ctr, train: true, new float[batch.Count]);
        using var scope2 = NewDisposeScope();
        var unitOut = store.ComputeModel.named_parameters().Single(p => p.name == "ctr.units.0.out.weight").parameter;
        Assert.True(unitOut.abs().sum().item<float>() > 0, "the attention unit's output layer did not train");
    }

    [Fact]
    public void With_dot_interactions_a_tower_reads_every_pair_of_embeddings_dot_product_projecting_other_widths()
    {
        // user, item and the history bag are 4 wide, category 3: all four interact at width 4 (6 pairs), category projected.
        var schema = Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"dot\" }"));
        var layout = FeatureLayout.From(schema);
        Assert.Equal([layout.IdFields[0].Offset, layout.IdFields[1].Offset, layout.BagFields[0].Offset, layout.IdFields[2].Offset], layout.InteractionOffsets);
        Assert.Equal([4, 4, 4, 3], layout.InteractionWidths);
        Assert.Equal(4, layout.InteractionWidth);
        Assert.Empty(FeatureLayout.From(Schemas.Parse(Schemas.GradientCheck)).InteractionOffsets);

        // A tower with no hidden layer is linear in what it reads: weights of 1 on the dots only give their sum.
        using var tower = new Tower("t", layout.DeepDim, [], 0.3, interactionOffsets: layout.InteractionOffsets, interactionWidth: layout.InteractionWidth,
            interactionWidths: layout.InteractionWidths);
        using var scope = NewDisposeScope();
        tower.eval();
        using var _ = no_grad();
        foreach (var w in tower.parameters()) w.zero_();
        var body = tower.named_parameters().Single(p => p.name == "body.out.weight").parameter;
        body.narrow(1, layout.DeepDim, 6).fill_(1.0f);
        // The category's projection: its 3 columns onto the first 3 of width 4, as they are.
        var projection = tower.named_parameters().Single(p => p.name.StartsWith("projections.", StringComparison.Ordinal)).parameter;
        Assert.Equal([4L, 3L], projection.shape);
        projection.copy_(eye(4, 3));
        var x = randn(4, layout.DeepDim);
        var logits = tower.call(x).data<float>().ToArray();
        var rows = x.data<float>().ToArray();
        for (var r = 0; r < 4; r++)
        {
            float Dot(int a, int b, int width)
            {
                float sum = 0;
                for (var k = 0; k < width; k++) sum += rows[r * layout.DeepDim + a + k] * rows[r * layout.DeepDim + b + k];
                return sum;
            }
            var (u, i, h, c) = (layout.InteractionOffsets[0], layout.InteractionOffsets[1], layout.InteractionOffsets[2], layout.InteractionOffsets[3]);
            var expected = Dot(u, i, 4) + Dot(u, h, 4) + Dot(i, h, 4) + Dot(u, c, 3) + Dot(i, c, 3) + Dot(c, h, 3);
            Assert.Equal(expected, logits[r], 3);
        }
    }

    [Fact]
    public void A_cross_layer_multiplies_the_input_by_its_projection_and_keeps_the_input()
    {
        // One full-rank layer, W = identity and b = 0, no hidden layer, the wide term off: x1 = x0 * x0 + x0, and an
        // output weight of 1 on every column gives the logit sum(x0^2 + x0).
        using var net = new CrossNetwork("c", 3, layers: 1, rank: 0);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (w, b) = (net.parameters().First(), net.parameters().Last());
        w.copy_(eye(3));
        b.zero_();
        var x = tensor(new float[] { 1, -2, 0.5f, 3, 0, -1 }, [2, 3]);
        var y = net.call(x).data<float>().ToArray();
        Assert.Equal([2f, 2f, 0.75f, 12f, 0f, 0f], y);

        // Low rank: W = U V' with two matrices of rank 2 per layer, and the same output width.
        using var low = new CrossNetwork("l", 5, layers: 2, rank: 2);
        Assert.Equal(2 * (5 * 2 + 2 * 5 + 5), low.parameters().Sum(p => p.numel()));
        Assert.Equal([4L, 5L], low.call(randn(4, 5)).shape);

        // In a model: the towers carry the layers (dense tier), and the schema's count and rank are honoured.
        var schema = Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"cross\", \"crossLayers\": 3, \"crossRank\": 2 }"));
        var layout = FeatureLayout.From(schema);
        using var model = new EsmmModel(layout, schema.Model);
        var names = model.StateInOrder().Select(s => s.Name).ToList();
        Assert.Equal(2 * 3 * 3, names.Count(n => n.Contains(".cross.", StringComparison.Ordinal)));
        Assert.Empty(layout.InteractionOffsets);
        Assert.DoesNotContain(names, n => n.Contains("projections", StringComparison.Ordinal));
    }

    [Fact]
    public void Stacking_across_tasks_adds_the_other_tasks_rates_starting_at_weight_zero()
    {
        var off = FeatureLayout.From(Schemas.Parse(Schemas.GradientCheck));
        var schema = Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"stackAcrossTasks\": true }"));
        var layout = FeatureLayout.From(schema);
        // Three id fields, a rate per task each: the CTR head reads its own three, then the CVR three.
        Assert.Equal(3, off.StackRateColumns(TaskKind.Ctr).Length);
        Assert.Equal([.. off.StackRateColumns(TaskKind.Ctr), .. off.StackRateColumns(TaskKind.Cvr)], layout.StackRateColumns(TaskKind.Ctr));
        Assert.Equal(3, layout.StackOwnRates(TaskKind.Cvr));
        using var model = new EsmmModel(layout, schema.Model);
        foreach (var tower in new[] { model.Ctr, model.Cvr })
        {
            var w = tower.named_parameters().Single(p => p.name == "stack.weight").parameter.data<float>().ToArray();
            Assert.Equal([1f / 3, 1f / 3, 1f / 3, 0f, 0f, 0f], w);
        }
        // A log with one label has no other task: the option changes nothing.
        var one = Schemas.Parse(Schemas.ClickCsv.Replace("\"batchSize\": 4 }", "\"batchSize\": 4, \"stackAcrossTasks\": true }"));
        Assert.Equal(FeatureLayout.From(Schemas.Parse(Schemas.ClickCsv)).StackRateColumns(TaskKind.Ctr), FeatureLayout.From(one).StackRateColumns(TaskKind.Ctr));
    }

    [Fact]
    public void Cross_settings_out_of_range_are_refused_naming_the_field()
    {
        var e = Assert.ThrowsAny<Exception>(() => Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"cross\", \"crossLayers\": 0 }")));
        Assert.Contains("model.crossLayers", e.Message);
        e = Assert.ThrowsAny<Exception>(() => Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"crossRank\": -1 }")));
        Assert.Contains("model.crossRank", e.Message);
    }

    [Fact]
    public void An_unknown_interactions_value_is_refused_naming_the_choices()
    {
        var e = Assert.ThrowsAny<Exception>(() => Schemas.Parse(Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", "\"initScale\": 0.5, \"interactions\": \"cross9\" }")));
        Assert.Contains("cross9", e.Message);
        Assert.Contains("dot", e.Message);
    }
}
