namespace Freshet.Model.Schema;

/// <summary>What the CVR tower learns from (see <see cref="ModelSpec.CvrLoss"/>).</summary>
public enum CvrLoss
{
    /// <summary>Conversions on clicks: the CVR stream only.</summary>
    Clicks,

    /// <summary>
    /// ESMM (Ma et al., SIGIR 2018): L_ctr + L_ctcvr over impressions, the CVR tower learning only through
    /// pCTCVR = pCTR x pCVR, so it sees the whole impression space. An unclicked impression's term is applied on its
    /// CTR step, a clicked one's on its click's CVR step (when its conversion is known and the click was scored).
    /// </summary>
    Esmm,
}
