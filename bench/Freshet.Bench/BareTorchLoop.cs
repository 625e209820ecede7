using System.Diagnostics;
using Freshet.Model.Towers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Freshet.Bench;

/// <summary>
/// The baseline of the trainer benchmarks: a plain TorchSharp loop with nn.Embedding tables, the
/// same tower, and plain tensor-op optimizers, on random ids already in memory. No reading, no hash
/// maps, no parameter store: what the same arithmetic costs with nothing of Freshet around it.
/// </summary>
public static class BareTorchLoop
{
    /// <summary>Result of one timed loop.</summary>
    public sealed record Result(string Name, long Samples, double Seconds)
    {
        public double SamplesPerSecond => Samples / Seconds;
    }

    /// <param name="tableRows">Rows of each embedding table.</param>
    /// <param name="fieldsPerTable">Which table each field reads (fields are concatenated).</param>
    /// <param name="score">Also run an eval-mode forward before each step, as progressive validation does.</param>
    public static Result Run(string name, int[] tableRows, int[] fieldsPerTable, int dim, IReadOnlyList<int> hidden, int batch, int steps, bool score, bool adagradDense, int seed = 1)
    {
        torch.manual_seed(seed);
        var tables = tableRows.Select(r => Embedding(r, dim)).ToArray();
        var inputDim = fieldsPerTable.Length * dim;
        var tower = new Tower("bench", inputDim, hidden, 0.1);
        using var sparse = ExplicitScalarOptimizer.Adagrad(tables.SelectMany(t => t.parameters()), 0.05);
        using var dense = adagradDense ? ExplicitScalarOptimizer.Adagrad(tower.parameters(), 0.01) : ExplicitScalarOptimizer.Adam(tower.parameters(), 0.001);
        var rng = new Random(seed);
        var ids = new long[fieldsPerTable.Length][];
        for (var f = 0; f < ids.Length; f++) ids[f] = new long[batch];
        var labels = new float[batch];

        void Step()
        {
            for (var f = 0; f < ids.Length; f++)
            {
                var rows = tableRows[fieldsPerTable[f]];
                for (var i = 0; i < batch; i++) ids[f][i] = rng.Next(rows);
            }
            for (var i = 0; i < batch; i++) labels[i] = rng.NextDouble() < 0.05 ? 1f : 0f;
            using var scope = NewDisposeScope();
            var x = cat([.. ids.Select((col, f) => tables[fieldsPerTable[f]].call(tensor(col)))], 1);
            if (score)
            {
                using (no_grad())
                {
                    tower.eval();
                    sigmoid(tower.call(x.detach())).data<float>().ToArray();
                }
                tower.train();
            }
            sparse.ZeroGrad();
            dense.ZeroGrad();
            var loss = functional.binary_cross_entropy_with_logits(tower.call(x), tensor(labels));
            loss.backward();
            sparse.Step();
            dense.Step();
        }

        tower.train();
        for (var i = 0; i < Math.Min(5, steps); i++) Step(); // warm-up
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) Step();
        clock.Stop();
        tower.Dispose();
        foreach (var t in tables) t.Dispose();
        return new Result(name, (long)steps * batch, clock.Elapsed.TotalSeconds);
    }
}
