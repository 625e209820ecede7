namespace Freshet.Grains.Serving;

[GenerateSerializer, Alias("Freshet.Grains.Serving.ServingVersionState")]
public sealed class ServingVersionState
{
    [Id(0)] public long? Version { get; set; }
}

public sealed class ServingVersionGrain(
    [PersistentState("serving", FreshetNames.GrainStorage)] IPersistentState<ServingVersionState> state) : Grain, IServingVersionGrain
{
    public Task<long?> GetAsync() => Task.FromResult(state.State.Version);

    public async Task SetAsync(long version)
    {
        state.State.Version = version;
        await state.WriteStateAsync();
    }
}
