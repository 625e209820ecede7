using Freshet.Model.Serving;

namespace Freshet.Grains.Jobs;

/// <summary>What a job does to deliver a delta (<see cref="PublishPlan"/>): the grain's storage, state and stream.</summary>
public interface IDeltaSteps
{
    /// <summary>The next delta's number on <paramref name="published"/>'s checkpoint: above every delta retained on it.</summary>
    Task<WeightsVersion> NextAsync(WeightsVersion published);

    /// <summary>Retains the encoded delta beside its base, whole or not at all.</summary>
    Task RetainAsync(WeightsVersion version, byte[] encoded);

    /// <summary>Records <paramref name="version"/> as the job's last published version, durably.</summary>
    Task RecordAsync(WeightsVersion version, DateTime snapshotUtc);

    /// <summary>Sends the encoded delta to serving; returns the chunks it took.</summary>
    Task<int> SendAsync(WeightsVersion version, byte[] encoded, DateTime snapshotUtc);

    /// <summary>Keeps <paramref name="delta"/> (null: none) where a new activation finds it; a failure here is the step's to report, not to throw.</summary>
    Task KeepAsync(UnsentDelta? delta);
}
