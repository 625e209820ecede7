using System.Globalization;

namespace Freshet;

/// <summary>The key of a job's trainer for one partition of its sample streams: <c>{job}/{partition}</c>.</summary>
public readonly record struct TrainerKey(string Job, int Partition)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Job}/{Partition}");

    public static TrainerKey Parse(string key) =>
        GrainKeys.TrySplit(key, out var job, out var partition)
            ? new TrainerKey(job, partition)
            : throw new ArgumentException($"trainer key '{key}' is not '{{job}}/{{partition}}'", nameof(key));
}
