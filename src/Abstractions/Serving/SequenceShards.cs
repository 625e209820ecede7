namespace Freshet.Serving;

/// <summary>How a sequence field's keys spread over its grains.</summary>
public static class SequenceShards
{
    /// <summary>Grains per model and sequence field.</summary>
    public const int Count = 8;

    /// <summary>The shard that keeps <paramref name="key"/> (a hashed id).</summary>
    public static int Of(ulong key) => (int)(key % Count);

    /// <summary>Most keys (or records) one call carries: a scoring call's rows, a joiner's batch.</summary>
    public const int MaxPerCall = 10_000;

    /// <summary>The grain key of one shard.</summary>
    public static string Key(string model, string field, int shard) => $"{model}/{field}/{shard}";
}
