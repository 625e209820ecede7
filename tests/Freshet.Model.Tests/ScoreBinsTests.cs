using Freshet.Model.Metrics;

namespace Freshet.Model.Tests;

public class ScoreBinsTests
{
    [Fact]
    public void Binned_auc_and_log_loss_match_the_exact_ones_and_parts_add_up()
    {
        var rng = new Random(3);
        var scores = new float[5000];
        var labels = new float[5000];
        for (var i = 0; i < scores.Length; i++)
        {
            labels[i] = rng.NextDouble() < 0.3 ? 1 : 0;
            scores[i] = (float)Math.Clamp(0.3 + (labels[i] - 0.3) * 0.4 + (rng.NextDouble() - 0.5) * 0.6, 0, 1);
        }
        var whole = new ScoreBins();
        var left = new ScoreBins();
        var right = new ScoreBins();
        for (var i = 0; i < scores.Length; i++)
        {
            whole.Add(scores[i], labels[i]);
            (i % 2 == 0 ? left : right).Add(scores[i], labels[i]);
        }
        Assert.Equal(Auc.Compute(scores, labels), whole.Auc!.Value, 3);
        var exactLogLoss = scores.Zip(labels, (p, y) => -(y * Math.Log(Math.Clamp(p, 1e-7, 1 - 1e-7)) + (1 - y) * Math.Log(1 - Math.Clamp(p, 1e-7, 1 - 1e-7)))).Average();
        Assert.Equal(exactLogLoss, whole.LogLoss!.Value, 6);
        left.Add(right);
        Assert.Equal((whole.Count, whole.PositiveCount, whole.Auc), (left.Count, left.PositiveCount, left.Auc));
        Assert.Equal(whole.LogLoss!.Value, left.LogLoss!.Value, 10); // summed in another order

        var one = new ScoreBins();
        one.Add(0.5f, 1);
        Assert.Null(one.Auc); // one label only
        Assert.Null(new ScoreBins().LogLoss);
    }
}
