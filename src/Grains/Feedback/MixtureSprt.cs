using Freshet.Feedback;

namespace Freshet.Grains.Feedback;

/// <summary>
/// The guard's sequential test: a mixture sequential probability ratio test (Robbins 1970; the always-valid p-values of
/// Johari, Koomen, Pekelis, Walsh, <i>Peeking at A/B tests</i>, KDD 2017) on the mean of per-row paired differences.
/// <para>
/// With n rows of mean x̄ and standard deviation σ, z = x̄ √n / σ, and the effect δ = μ/σ mixed over a normal prior of
/// variance ρ, the likelihood ratio of "the mean is δσ for some δ" against "the mean is 0" is
/// Λₙ = (1 + nρ)^-½ · exp(z² nρ / (2 (1 + nρ))). Under the null, Λ is a nonnegative martingale of mean 1, so by Ville's
/// inequality the chance that it ever reaches 1/α, at any of any number of looks, is at most α. The test rejects when
/// z ≥ <see cref="Boundary"/>, which is Λₙ ≥ 1/α on the side of a positive mean; the other side never rejects, so the
/// one-sided false-alarm probability is at most α (a little conservative), however often it is looked at.
/// </para>
/// <para>
/// Why this rather than an alpha-spending rule (O'Brien-Fleming, Pocock): those need the looks planned, each at a known
/// share of a fixed number of rows, and the guard's looks are not: it looks every <see cref="GuardSpec.CheckEvery"/>,
/// on however many rows' click windows have closed by then, which depends on traffic, on the publishes and on when the
/// replicas loaded the good copy. The mixture test needs no plan and stays valid past the planned size. Its price:
/// at the planned size (<c>planned</c> rows below) it needs z ≈ 4.2 where a single test at α = 0.001
/// needs 3.09.
/// </para>
/// σ is estimated from the rows (plug-in), as is usual; the guarantee is then approximate for small n, which is why the
/// guard makes no verdict before <see cref="ServedGuard.FirstLook"/> rows.
/// </summary>
public static class MixtureSprt
{
    /// <summary>
    /// nρ at the planned size that makes the boundary there the lowest: it solves r = 2 ln(1/α) + ln(1 + r), where
    /// the boundary is √(1 + r).
    /// </summary>
    public static double BestRatio(double alpha)
    {
        var twoL = 2 * Math.Log(1 / alpha);
        var r = twoL;
        for (var i = 0; i < 50; i++) r = twoL + Math.Log(1 + r);
        return r;
    }

    /// <summary>
    /// The z a mean over <paramref name="n"/> rows must reach to reject at false-alarm probability
    /// <paramref name="alpha"/> over every look, with the mixture tuned for <paramref name="planned"/> rows:
    /// √((1 + 1/r)(2 ln(1/α) + ln(1 + r))) with r = n ρ and ρ = <see cref="BestRatio"/>(α) / planned.
    /// </summary>
    public static double Boundary(long n, long planned, double alpha)
    {
        if (n < 1) return double.PositiveInfinity;
        var r = n * BestRatio(alpha) / Math.Max(1, planned);
        return Math.Sqrt((1 + 1 / r) * (2 * Math.Log(1 / alpha) + Math.Log(1 + r)));
    }
}
