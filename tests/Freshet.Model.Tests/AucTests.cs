using Freshet.Model.Metrics;

namespace Freshet.Model.Tests;

public class AucTests
{
    [Fact]
    public void Perfect_ranking_is_one_and_reversed_is_zero()
    {
        Assert.Equal(1.0, Auc.Compute([0.1f, 0.2f, 0.8f, 0.9f], [0, 0, 1, 1]), 12);
        Assert.Equal(0.0, Auc.Compute([0.9f, 0.8f, 0.2f, 0.1f], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void Hand_computed_case_with_ties()
    {
        // Positives: 0.8, 0.5, 0.5; negatives: 0.5, 0.3, 0.9.
        // Pairs (pos, neg): 0.8 beats 0.5 and 0.3, loses to 0.9 -> 2; each 0.5 ties 0.5 (1/2), beats 0.3, loses to 0.9 -> 1.5 each.
        // AUC = (2 + 1.5 + 1.5) / 9 = 5/9.
        Assert.Equal(5.0 / 9.0, Auc.Compute([0.8f, 0.5f, 0.5f, 0.5f, 0.3f, 0.9f], [1, 1, 1, 0, 0, 0]), 12);
    }

    [Fact]
    public void All_scores_tied_is_one_half()
    {
        Assert.Equal(0.5, Auc.Compute([0.4f, 0.4f, 0.4f, 0.4f, 0.4f], [1, 0, 0, 1, 0]), 12);
    }

    [Fact]
    public void One_class_only_is_undefined()
    {
        Assert.True(double.IsNaN(Auc.Compute([0.1f, 0.7f], [1, 1])));
        Assert.True(double.IsNaN(Auc.Compute([0.1f, 0.7f], [0, 0])));
    }

    [Fact]
    public void A_nan_score_makes_it_undefined_rather_than_looping()
    {
        Assert.True(double.IsNaN(Auc.Compute([0.1f, float.NaN, 0.7f], [1, 0, 0])));
        Assert.True(double.IsNaN(Auc.Compute([float.NaN, float.NaN], [1, 0])));
    }

    [Fact]
    public void Group_auc_averages_groups_with_both_labels()
    {
        // Group 1: perfect (1.0). Group 2: reversed (0.0). Group 3: positives only, not counted.
        var scores = new float[] { 0.9f, 0.1f, 0.2f, 0.8f, 0.5f };
        var labels = new float[] { 1, 0, 1, 0, 1 };
        var groups = new ulong[] { 1, 1, 2, 2, 3 };
        var (auc, counted) = GroupAuc.Compute(scores, labels, groups);
        Assert.Equal(0.5, auc, 12);
        Assert.Equal(2, counted);
    }

    [Fact]
    public void Log_loss_matches_hand_computation()
    {
        var expected = -(Math.Log(0.8) + Math.Log(1 - 0.3)) / 2;
        Assert.Equal(expected, LogLoss.Compute([0.8f, 0.3f], [1, 0]), 6);
    }
}
