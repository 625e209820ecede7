using Freshet.Feedback;
using Freshet.Model.Serving;

namespace Freshet.Grains.Feedback;

/// <summary>
/// A joiner's served quality per weights version, kept in its state: the version's sums as labels settle, and the guard's
/// pairs (a shadowed row's served and good log-loss), each counted once its click window has closed.
/// </summary>
internal static class ServedQualities
{
    /// <summary>The served quality of <paramref name="weights"/>, kept among the latest <see cref="JoinerGrain.VersionsKept"/> versions.</summary>
    public static ServedQuality Of(JoinerState state, WeightsVersion weights)
    {
        var list = state.Quality;
        var i = list.FindIndex(q => q.Weights == weights);
        if (i >= 0) return list[i];
        var quality = new ServedQuality { Weights = weights };
        var at = list.FindIndex(q => q.Weights > weights);
        list.Insert(at < 0 ? list.Count : at, quality);
        if (list.Count > JoinerGrain.VersionsKept) list.RemoveAt(0);
        return quality;
    }

    /// <summary>A copy of <paramref name="q"/> saying whether every impression it answered has its click label by the joiner's clock.</summary>
    public static ServedQuality WithSettled(JoinerState state, ServedQuality q) => new()
    {
        Weights = q.Weights, Ctr = q.Ctr, Cvr = q.Cvr, Paired = q.Paired, PairedWith = q.PairedWith, LastScored = q.LastScored,
        Settled = state.Config is { } config && state.Now != long.MinValue && q.LastScored + config.Spec.ClickWindow.Ticks <= state.Now,
    };

    /// <summary>
    /// A shadowed row's pair counts once its click window has closed by the joiner's clock, as an unclicked row's does:
    /// a row settled before (clicked, evicted, a label judged late) waits in <see cref="JoinerState.Held"/> until then.
    /// So the pairs of the version being served are, at every moment, those of its rows scored up to a click window
    /// ago, clicked or not, and the guard can judge it while it is served.
    /// </summary>
    public static void Pair(JoinerState state, HeldPair pair)
    {
        if (pair.Deadline < state.Now)
        {
            Of(state, pair.Served).AddPair(pair.Shadow, pair.ServedLoss, pair.GoodLoss);
            return;
        }
        var held = state.Held;
        var at = held.Count;
        while (at > 0 && held[at - 1].Deadline > pair.Deadline) at--; // rows come in about their time order: from the end
        held.Insert(at, pair);
        // Bounded as the joins are: past the cap the earliest counts now, a little before its window closes.
        var cap = state.Config?.Spec.MaxPendingPerJoiner ?? int.MaxValue;
        if (held.Count > cap) Release(state, held.Count - cap);
    }

    /// <summary>Counts the held pairs whose click window closed by <paramref name="now"/> (deadline before it, the joins' rule); returns how many.</summary>
    public static int ReleaseClosed(JoinerState state, long now)
    {
        var closed = 0;
        while (closed < state.Held.Count && state.Held[closed].Deadline < now) closed++;
        Release(state, closed);
        return closed;
    }

    /// <summary>Counts the <paramref name="count"/> held pairs whose windows close first.</summary>
    private static void Release(JoinerState state, int count)
    {
        var held = state.Held;
        for (var i = 0; i < count; i++) Of(state, held[i].Served).AddPair(held[i].Shadow, held[i].ServedLoss, held[i].GoodLoss);
        held.RemoveRange(0, count);
    }
}
