using System.Runtime.InteropServices;
using Freshet.Model.Cluster;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Tests.Support;
using static TorchSharp.torch;

namespace Freshet.Model.Tests;

/// <summary>How the dense tier takes several trainers' batch-norm statistics.</summary>
public class DenseTierTests
{
    [Fact]
    public void Two_trainers_pushes_from_one_base_both_move_the_running_statistics()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var layout = FeatureLayout.From(schema);
        using var tier = new DenseTier(schema);
        var (_, baseBuffers, _) = tier.Read(TaskKind.Ctr);
        var zero = new float[TowerCodec.ParameterCount(tier.Model.Ctr)];

        // Two trainers start from the tier's buffers, each runs a training forward pass on its own batch.
        var a = Forward(layout, schema, baseBuffers, shift: 2f, seed: 1);
        var b = Forward(layout, schema, baseBuffers, shift: -3f, seed: 2);
        tier.Apply(TaskKind.Ctr, zero, a, 0.1, "t0", 1, baseBuffers);
        tier.Apply(TaskKind.Ctr, zero, b, 0.1, "t1", 1, baseBuffers);

        var (_, merged, _) = tier.Read(TaskKind.Ctr);
        var m = Floats(merged);
        var x = Floats(baseBuffers);
        var fa = Floats(a);
        var fb = Floats(b);
        Assert.Equal(x.Length, m.Length);
        for (var i = 0; i < m.Length; i++)
        {
            // float positions of the running means and variances (the batch counters are int64, checked below)
            if (i < fa.Length && IsCounterPosition(tier.Model.Ctr, i)) continue;
            Assert.Equal(x[i] + (fa[i] - x[i]) + (fb[i] - x[i]), m[i], 4);
        }
        // Both batches counted, and the first trainer's move is not what is left (the last push no longer wins).
        Assert.All(Counters(tier.Model.Ctr), c => Assert.Equal(2, c));
        Assert.NotEqual(Floats(b), m);
    }

    [Fact]
    public void A_push_without_its_base_replaces_the_buffers()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        var layout = FeatureLayout.From(schema);
        using var tier = new DenseTier(schema);
        var (_, baseBuffers, _) = tier.Read(TaskKind.Ctr);
        var zero = new float[TowerCodec.ParameterCount(tier.Model.Ctr)];
        var a = Forward(layout, schema, baseBuffers, shift: 2f, seed: 1);
        tier.Apply(TaskKind.Ctr, zero, a, 0.1, "t0", 1);
        Assert.Equal(a, tier.Read(TaskKind.Ctr).Buffers);
    }

    [Fact]
    public void A_base_of_another_length_is_refused_with_both_lengths()
    {
        var schema = Schemas.Parse(Schemas.GradientCheck);
        using var tier = new DenseTier(schema);
        var (_, buffers, _) = tier.Read(TaskKind.Ctr);
        var zero = new float[TowerCodec.ParameterCount(tier.Model.Ctr)];
        var e = Assert.Throws<InvalidDataException>(() => tier.Apply(TaskKind.Ctr, zero, buffers, 0.1, "t0", 1, buffers.AsSpan(4)));
        Assert.Contains($"{buffers.Length - 4}", e.Message);
        Assert.Contains($"{buffers.Length}", e.Message);
    }

    /// <summary>A trainer's copy of the CTR tower after one training forward pass from <paramref name="start"/>: its buffers.</summary>
    private static byte[] Forward(FeatureLayout layout, FeatureSchema schema, byte[] start, float shift, int seed)
    {
        using var model = new EsmmModel(layout, schema.Model);
        TowerCodec.WriteBuffers(model.Ctr, start);
        using var scope = NewDisposeScope();
        model.train();
        manual_seed(seed);
        using var _ = no_grad();
        model.Ctr.forward(randn(64, layout.InputDim) + shift);
        return TowerCodec.ReadBuffers(model.Ctr);
    }

    private static float[] Floats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(0, bytes.Length / 4 * 4)).ToArray();

    /// <summary>Whether float position <paramref name="i"/> of the raw buffers falls inside a batch counter (8 bytes of int64).</summary>
    private static bool IsCounterPosition(Tower tower, int i)
    {
        var at = 0;
        foreach (var (name, b) in tower.named_buffers())
        {
            var n = (int)(b.numel() * b.ElementSize);
            if (i * 4 >= at && i * 4 < at + n) return b.dtype == ScalarType.Int64;
            at += n;
        }
        return false;
    }

    private static IEnumerable<long> Counters(Tower tower) =>
        tower.named_buffers().Where(b => b.buffer.dtype == ScalarType.Int64).Select(b => b.buffer.item<long>()).ToList();
}
