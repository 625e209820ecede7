namespace Freshet.Grains.Serving;

/// <summary>
/// One per served model (key: the model's name): the checkpoint version serving follows, as last
/// announced, persisted so a replica that starts later follows the same base (after a rollback too).
/// </summary>
[Alias("Freshet.Grains.Serving.IServingVersionGrain")]
public interface IServingVersionGrain : IGrainWithStringKey
{
    [Alias("Get")] Task<long?> GetAsync();

    [Alias("Set")] Task SetAsync(long version);
}
