using Freshet.Grains.Placement;
using Freshet.Model.Serving;

namespace Freshet.Grains.Serving;

/// <summary>
/// The version serving is told to hold, and the guard's marks. Written by jobs and deployments, so it lives with them on a
/// training silo: serving silos come and go under load, and a checkpoint's announcement should not wait on one that died.
/// </summary>
[TrainingSilo]
public sealed class ServingVersionGrain(
    [PersistentState("serving", FreshetNames.GrainStorage)] IPersistentState<ServingVersionState> state) : Grain, IServingVersionGrain
{
    public Task<long?> GetAsync() => Task.FromResult(state.State.Version);

    public async Task SetAsync(long version)
    {
        state.State.Version = version;
        state.State.Halt = null;
        await state.WriteStateAsync();
    }

    public Task<ServingGuardMarks> GetGuardAsync() => Task.FromResult(new ServingGuardMarks { Good = state.State.Good, Halt = state.State.Halt });

    public async Task SetGoodAsync(WeightsVersion good)
    {
        state.State.Good = good;
        await state.WriteStateAsync();
    }

    public async Task HaltAsync(WeightsVersion at)
    {
        state.State.Halt = at;
        await state.WriteStateAsync();
    }
}
