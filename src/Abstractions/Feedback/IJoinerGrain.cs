using Freshet.Admin;

namespace Freshet.Feedback;

/// <summary>
/// One partition of a model's feedback loop, keyed <c>{model}/{joiner}</c> (<see cref="JoinerKey"/>): it holds
/// what serving answered for the prediction ids of its partition until their labels come or their windows
/// close, and publishes the training samples they make onto the main job's sample streams.
/// </summary>
[Alias("Freshet.Feedback.IJoinerGrain")]
public interface IJoinerGrain : IGrainWithStringKey
{
    /// <summary>Sets (or changes) the loop's settings and where its samples go; the deployment grain calls it at start.</summary>
    [Alias("Configure")] Task ConfigureAsync(JoinerConfig config);

    /// <summary>Rows serving scored for this partition: held for their labels.</summary>
    [Alias("Log")] Task LogAsync(PredictionLog log);

    /// <summary>Labels for this partition's predictions; what they complete is published at once.</summary>
    [ClientCallable(ClientAccess.Produce), Alias("Label")] Task LabelAsync(IReadOnlyList<FeedbackLabel> labels);

    /// <summary>The loop's settings (null: the model logs no predictions).</summary>
    [Alias("GetConfig")] Task<JoinerConfig?> GetConfigAsync();

    [ClientCallable(ClientAccess.Read), Alias("GetStatus")] Task<JoinerStatus> GetStatusAsync();
}
