namespace Freshet.Model.Training;

/// <summary>
/// One rate field's part of a step. The store's pull fills, for the distinct keys of the batch, their settled
/// counts and their pending events (with times), and the rate's settled totals; the step computes each sample's
/// input from them (see <c>TrainingStep</c>, in Freshet.Model) and fills the events this batch adds, which the push counts.
/// </summary>
public sealed class RateBatch(int rate)
{
    public int Rate { get; } = rate;

    /// <summary>Whether this step counts its labels (the strategy trains the changing tier).</summary>
    public bool Train { get; set; }

    public int Count { get; private set; }

    public ulong[] Ids { get; private set; } = new ulong[256];

    /// <summary>Count x 2 settled counts (positives, samples) per key, filled by the store's pull.</summary>
    public double[] Settled { get; private set; } = new double[512];

    /// <summary>Events of the batch's keys not settled yet, filled by the store's pull: key slot, time, positives, samples.</summary>
    public List<(int Slot, long Time, double Positives, double Samples)> Pending { get; } = [];

    /// <summary>The rate's settled totals over every shard (the prior's global rate), filled by the store's pull.</summary>
    public double TotalPositives { get; set; }

    public double TotalSamples { get; set; }

    /// <summary>The events this batch counts (key slot, time, positives, samples), filled before the push.</summary>
    public List<(int Slot, long Time, double Positives, double Samples)> Events { get; } = [];

    public void Clear()
    {
        Count = 0;
        Pending.Clear();
        Events.Clear();
        TotalPositives = 0;
        TotalSamples = 0;
    }

    public int Add(ulong id)
    {
        if (Count == Ids.Length)
        {
            var n = Ids.Length * 2;
            var ids = Ids; Array.Resize(ref ids, n); Ids = ids;
            var c = Settled; Array.Resize(ref c, n * 2); Settled = c;
        }
        Ids[Count] = id;
        Settled[2 * Count] = 0;
        Settled[2 * Count + 1] = 0;
        return Count++;
    }
}
