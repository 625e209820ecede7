using System.Globalization;

namespace Freshet;

/// <summary>The key of a model's embedding shard: <c>{model}/{shard}</c>.</summary>
public readonly record struct ShardKey(string Model, int Shard)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}/{Shard}");

    public static ShardKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var model, out var shard)
            ? new ShardKey(model, shard)
            : throw new ArgumentException($"shard key '{key}' is not '{{model}}/{{shard}}'", nameof(key));
}
