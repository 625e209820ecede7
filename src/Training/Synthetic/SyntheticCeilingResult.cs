namespace Freshet.Model.Synthetic;

/// <summary>AUCs of the informed learner and of the oracle on the same synthetic samples.</summary>
public sealed record SyntheticCeilingResult(long Samples, long Clicks, double CtrAuc, double CtrOracleAuc, double CvrAuc, double CvrOracleAuc)
{
    /// <summary>(AUC - 0.5) / (oracle AUC - 0.5): the share of the oracle's lift over chance that the learner reaches.</summary>
    public static double Fraction(double auc, double oracle) => (auc - 0.5) / (oracle - 0.5);
}
