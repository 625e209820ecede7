namespace Freshet.Model.Training;

/// <summary>
/// One table's part of a step: the distinct ids of the batch (with occurrence counts for the
/// admission filter), the rows pulled for them and the summed gradients pushed back.
/// Buffers are reused from step to step; only the first <see cref="Count"/> ids are valid.
/// </summary>
public sealed class TableBatch(int table, int dim)
{
    public int Table { get; } = table;

    public int Dim { get; } = dim;

    /// <summary>Whether this step trains the table: missing rows are created and gradients pushed.</summary>
    public bool Train { get; set; }

    public int Count { get; private set; }

    public ulong[] Ids { get; private set; } = new ulong[256];

    public int[] Occurrences { get; private set; } = new int[256];

    /// <summary>Count x Dim weights, filled by the store's pull (zeros for ids without a row).</summary>
    public float[] Rows { get; private set; } = new float[256 * dim];

    /// <summary>Count x Dim summed gradients, filled by the step before the push.</summary>
    public float[] Gradients { get; private set; } = new float[256 * dim];

    public Span<ulong> IdSpan => Ids.AsSpan(0, Count);

    public Span<float> RowSpan => Rows.AsSpan(0, Count * Dim);

    public Span<float> GradientSpan => Gradients.AsSpan(0, Count * Dim);

    public void Clear() => Count = 0;

    /// <summary>Adds a distinct id and returns its index.</summary>
    public int Add(ulong id)
    {
        if (Count == Ids.Length)
        {
            var n = Ids.Length * 2;
            Ids = Resize(Ids, n);
            Occurrences = Resize(Occurrences, n);
            Rows = Resize(Rows, n * Dim);
            Gradients = Resize(Gradients, n * Dim);
        }
        Ids[Count] = id;
        Occurrences[Count] = 0;
        return Count++;
    }

    private static T[] Resize<T>(T[] a, int n)
    {
        Array.Resize(ref a, n);
        return a;
    }
}
