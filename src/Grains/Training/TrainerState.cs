using Freshet.Jobs;

namespace Freshet.Grains.Training;

/// <summary>What a trainer keeps across activations: its job, and whether it should be running.</summary>
[GenerateSerializer, Alias("Freshet.Grains.Training.TrainerState")]
public sealed class TrainerState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public bool Running { get; set; }

    /// <summary>Per task, samples at or before this position are skipped on arrival (the restored checkpoint holds them).</summary>
    [Id(2)] public Dictionary<string, long> SkipThrough { get; set; } = [];
}
