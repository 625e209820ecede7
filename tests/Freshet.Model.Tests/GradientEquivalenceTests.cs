using Freshet.Model.Schema;
using Freshet.Model.Data;
using Freshet.Model.Hashing;
using Freshet.Model.Towers;
using Freshet.Model.Tests.Support;
using Freshet.Model.Training;
using static TorchSharp.torch;

namespace Freshet.Model.Tests;

/// <summary>
/// The gather/scatter path (rows pulled by id, gradient of the input summed back per id) must give
/// the row gradients TorchSharp's own nn.Embedding autograd gives on the same batch.
/// </summary>
public class GradientEquivalenceTests
{
    private static Sample S(TaskKind task, float label, string user, string item, string[] history, string category, float price) => new()
    {
        Task = task,
        Time = 1,
        Label = label,
        Ids = [IdHasher.Hash(user), IdHasher.Hash(item), IdHasher.Hash(category)],
        Bags = [[.. history.Select(h => IdHasher.Hash(h))]],
        Numerics = [price],
    };

    public static TheoryData<string, string> Tasks => new()
    {
        { "ctr", "none" }, { "cvr", "none" }, { "ctr", "dot" }, { "cvr", "dot" }, { "ctr", "dotCross" }, { "cvr", "cross" },
        { "ctr", "none+attention" }, { "cvr", "dot+attention" },
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public async Task Row_gradients_equal_nn_embedding_autograd(string taskName, string interactions)
    {
        var task = taskName == "ctr" ? TaskKind.Ctr : TaskKind.Cvr;
        // With interactions the towers also read the embeddings' pairwise dot products: their gradients reach the rows too.
        // With attention the history's values each sit in a slot (the last 3 of them here, the most recent first), weighed
        // against the item, each slot with its learned recency term.
        var attention = interactions.EndsWith("+attention", StringComparison.Ordinal);
        interactions = interactions.Replace("+attention", "");
        var json = Schemas.GradientCheck.Replace("\"initScale\": 0.5 }", $"\"initScale\": 0.5, \"interactions\": \"{interactions}\" }}");
        if (attention) json = json.Replace("\"dim\": 4, \"maxLength\": 5 }", "\"dim\": 4, \"maxLength\": 3, \"pooling\": \"attention\" }");
        var schema = Schemas.Parse(json);
        Assert.Equal(interactions is "dot" or "dotCross" ? 4 : 0, FeatureLayout.From(schema).InteractionOffsets.Length);
        // Repeated ids within and across fields (item i1 is a candidate and in histories), an empty bag.
        var batch = new List<Sample>
        {
            S(task, 1, "u1", "i1", ["i2", "i3"], "c1", 0.5f),
            S(task, 0, "u2", "i2", ["i1"], "c1", -1f),
            S(task, 0, "u1", "i3", [], "c2", 2f),
            S(task, 1, "u3", "i1", ["i5", "i1", "i2", "i4"], "c2", 0.1f),
            S(task, 0, "u2", "i4", ["i3"], "c1", 1.5f),
            S(task, 1, "u4", "i2", ["i4", "i4"], "c3", -0.3f),
        };
        using var store = new InProcessParameterStore(schema);
        using var reference = new EsmmModel(store.Layout, schema.Model); // same seed: the same initial weights
        if (attention)
        {
            // The attention units' outputs start at 0 (a mean): set them to the same random weights in both models, so the
            // weights depend on the values and the candidate, and those gradients are compared too.
            Assert.Single(store.Layout.AttentionFields);
            using var _ = no_grad();
            var generator = new Random(5);
            foreach (var (name, p) in store.ComputeModel.named_parameters().Where(p => p.name.Contains("units", StringComparison.Ordinal) || p.name.Contains("recency", StringComparison.Ordinal)))
            {
                var values = Enumerable.Range(0, (int)p.numel()).Select(_ => (float)(generator.NextDouble() - 0.5)).ToArray();
                p.copy_(tensor(values, p.shape));
                reference.get_parameter(name)!.copy_(tensor(values, p.shape));
            }
        }
        var step = new TrainingStep(store, Strategy.All);
        await step.RunAsync(batch, task, train: true, new float[batch.Count]);

        var rows = step.LastRows;
        var layout = store.Layout;
        using var scope = NewDisposeScope();
        // One nn.Embedding per table holding exactly the rows the step pulled, in the step's id order.
        var embeddings = rows.Tables.Select(t => nn.Embedding(t.Count, t.Dim)).ToArray();
        using (no_grad())
        {
            for (var t = 0; t < embeddings.Length; t++)
            {
                embeddings[t].weight!.copy_(tensor(rows.Tables[t].Rows[..(rows.Tables[t].Count * rows.Tables[t].Dim)], [rows.Tables[t].Count, rows.Tables[t].Dim]));
            }
        }
        long IndexOf(int table, ulong id) => Array.IndexOf(rows.Tables[table].Ids, id, 0, rows.Tables[table].Count);

        // The input, column block by column block at the layout's offsets: the schema's fields, then the stacking
        // head's running rates (values the step pulled: no gradient) and per-id biases (rows of their tables).
        var parts = new List<(int Offset, Tensor Block)>();
        var idSlot = 0;
        var bagSlot = 0;
        foreach (var f in schema.Fields)
        {
            if (f.Kind == Schema.FieldKind.Id)
            {
                var slot = layout.IdFields[idSlot];
                var k = idSlot++;
                parts.Add((slot.Offset, embeddings[slot.TableIndex].call(tensor(batch.Select(s => IndexOf(slot.TableIndex, s.Ids[k])).ToArray()))));
            }
            else if (f.Kind == Schema.FieldKind.Ids)
            {
                var slot = layout.BagFields[bagSlot];
                var k = bagSlot++;
                if (layout.AttentionOf(k) is { } a)
                {
                    // The bag's own columns stay 0 (the tower writes the pooled row there); its last values in slots, then masks.
                    parts.Add((slot.Offset, zeros(batch.Count, slot.Width)));
                    var kept = batch.Select(s => s.Bags[k][Math.Max(0, s.Bags[k].Length - a.Length)..].Reverse().ToArray()).ToArray(); // the most recent first
                    parts.Add((a.SlotsOffset, stack(kept.Select(v => cat([.. Enumerable.Range(0, a.Length).Select(j => j < v.Length
                        ? embeddings[slot.TableIndex].call(tensor(new[] { IndexOf(slot.TableIndex, v[j]) })).squeeze(0)
                        : zeros(a.Width))])).ToArray())));
                    parts.Add((a.MaskOffset, tensor(kept.SelectMany(v => Enumerable.Range(0, a.Length).Select(j => j < v.Length ? 1f : 0f)).ToArray(), [batch.Count, a.Length])));
                    continue;
                }
                var pooled = batch.Select(s => s.Bags[k].Length == 0
                    ? zeros(slot.Width)
                    : embeddings[slot.TableIndex].call(tensor(s.Bags[k].Select(id => IndexOf(slot.TableIndex, id)).ToArray())).mean([0L])).ToArray();
                parts.Add((slot.Offset, stack(pooled)));
            }
            else
            {
                parts.Add((layout.NumericFields[0].Offset, tensor(batch.Select(s => s.Numerics[0]).ToArray()).unsqueeze(1)));
            }
        }
        Assert.True(layout.Stacking);
        var input = step.LastInput.ToArray();
        foreach (var rate in layout.RateFields)
        {
            // The rates' inputs as the step computed them for each sample (constants here: no gradient).
            var values = Enumerable.Range(0, batch.Count).SelectMany(s => input[(s * layout.InputDim + rate.Offset)..(s * layout.InputDim + rate.Offset + 2)]).ToArray();
            parts.Add((rate.Offset, tensor(values, [batch.Count, 2])));
        }
        foreach (var b in layout.BiasFields)
        {
            parts.Add((b.Offset, embeddings[b.TableIndex].call(tensor(batch.Select(s => IndexOf(b.TableIndex, s.Ids[b.IdField])).ToArray()))));
        }
        var x = cat([.. parts.OrderBy(p => p.Offset).Select(p => p.Block)], 1);
        Assert.Equal(layout.InputDim, (int)x.shape[1]);
        if (attention) Assert.Equal(x.data<float>().ToArray(), step.LastInput.ToArray()); // the step's input, slot by slot
        var tower = reference.TowerOf(task);
        tower.train();
        var loss = nn.functional.binary_cross_entropy_with_logits(tower.call(x), tensor(batch.Select(s => s.Label).ToArray()));
        loss.backward();

        // The step reports gradients of the batch's summed loss; autograd here is of the mean.
        for (var t = 0; t < embeddings.Length; t++)
        {
            var tb = rows.Tables[t];
            var expected = embeddings[t].weight!.grad!.data<float>().ToArray();
            Assert.Equal(tb.Count * tb.Dim, expected.Length);
            for (var k = 0; k < expected.Length; k++)
            {
                Assert.Equal(expected[k] * batch.Count, tb.Gradients[k], 1e-5f);
            }
            Assert.Contains(expected, g => Math.Abs(g) > 1e-4f); // the comparison is not between zeros
        }
    }
}
