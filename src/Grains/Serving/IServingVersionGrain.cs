using Freshet.Model.Serving;

namespace Freshet.Grains.Serving;

/// <summary>
/// Per served model: the checkpoint serving follows (the last one announced, persisted so a replica that starts later
/// follows the same base, after a rollback too), and the guard's marks: the last good weights replicas keep beside the
/// served ones, and the ceiling a guard rollback set (no delta after it on its checkpoint is served).
/// </summary>
[Alias("Freshet.Grains.Serving.IServingVersionGrain")]
public interface IServingVersionGrain : IGrainWithStringKey
{
    [Alias("Get")] Task<long?> GetAsync();

    /// <summary>Announces a checkpoint; a ceiling set by a guard rollback no longer applies.</summary>
    [Alias("Set")] Task SetAsync(long version);

    [Alias("GetGuard")] Task<ServingGuardMarks> GetGuardAsync();

    [Alias("SetGood")] Task SetGoodAsync(WeightsVersion good);

    /// <summary>Serving stays at <paramref name="at"/>: deltas after it on its checkpoint are not served.</summary>
    [Alias("Halt")] Task HaltAsync(WeightsVersion at);
}
