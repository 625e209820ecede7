using Freshet.Admin;
using Freshet.Jobs;

namespace Freshet.Deployments;

/// <summary>
/// What a deployment's spec must be, apart from its schema (parsed by the main job): one set of rules, used by
/// the client before it sends a spec and by the deployment grain when one arrives. The layout fields are the
/// main job's (<see cref="JobSpecRules"/>). Each problem names its field and how to fix it.
/// </summary>
public static class DeploymentSpecRules
{
    /// <summary>
    /// The deployment's key and served model: required (a job's model may default to its schema's name), by the job's
    /// rule; the names it makes (its jobs <c>{model}-main</c> and <c>{model}-b</c>, Model B's <c>{model}-b</c>) follow it too.
    /// </summary>
    public static string? Model(string model) =>
        model.Length == 0 ? "model: give a name"
        : JobSpecRules.Model(model) ?? Freshet.Model.Schema.NameRule.Problem(DeploymentJob.Main.JobOf(model), $"model '{model}': its main job");

    public static string? PublishInterval(TimeSpan interval) => interval <= TimeSpan.Zero ? "publishInterval: must be positive (1s works)" : null;

    public static string? PromotionEvery(TimeSpan every) => every <= TimeSpan.Zero ? "promotionEvery: must be positive" : null;

    public static string? DailyCheckpointAt(TimeSpan at) => at < TimeSpan.Zero || at >= TimeSpan.FromDays(1) ? "dailyCheckpointAt: a time of day, 00:00 to 23:59" : null;

    /// <summary>Every problem of the spec, in field order; empty when it is good.</summary>
    public static IReadOnlyList<string> Problems(DeploymentSpec spec) =>
    [
        .. new[]
        {
            Model(spec.Model), AdminLimits.Schema(spec.SchemaJson),
            JobSpecRules.Strategy(spec.Strategy), JobSpecRules.Shards(spec.Shards), JobSpecRules.Trainers(spec.Trainers),
            PublishInterval(spec.PublishInterval), DailyCheckpointAt(spec.DailyCheckpointAt), PromotionEvery(spec.PromotionEvery),
            JobSpecRules.FreshRowBudget(spec.FreshRowBudget), JobSpecRules.KeepCheckpoints(spec.KeepCheckpoints),
        }.OfType<string>(),
        .. spec.Feedback?.Problems() ?? [],
    ];
}
