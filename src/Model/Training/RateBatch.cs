namespace Freshet.Model.Training;

/// <summary>
/// One rate field's part of a step: the distinct ids of the counted field, the two input values
/// pulled per id, and after training the batch's label counts per id to add.
/// </summary>
public sealed class RateBatch(int rate)
{
    public int Rate { get; } = rate;

    /// <summary>Whether this step counts its labels (the strategy trains the changing tier).</summary>
    public bool Train { get; set; }

    public int Count { get; private set; }

    public ulong[] Ids { get; private set; } = new ulong[256];

    /// <summary>Count x 2 input values, filled by the store's pull.</summary>
    public float[] Features { get; private set; } = new float[512];

    /// <summary>Positives per id in this batch (of the rate's task), filled before the push.</summary>
    public double[] Positives { get; private set; } = new double[256];

    /// <summary>Samples per id in this batch (of the rate's task), filled before the push.</summary>
    public double[] Samples { get; private set; } = new double[256];

    public void Clear() => Count = 0;

    public int Add(ulong id)
    {
        if (Count == Ids.Length)
        {
            var n = Ids.Length * 2;
            var ids = Ids; Array.Resize(ref ids, n); Ids = ids;
            var f = Features; Array.Resize(ref f, n * 2); Features = f;
            var p = Positives; Array.Resize(ref p, n); Positives = p;
            var s = Samples; Array.Resize(ref s, n); Samples = s;
        }
        Ids[Count] = id;
        Positives[Count] = 0;
        Samples[Count] = 0;
        return Count++;
    }
}
