namespace Freshet.Grains.Placement;

/// <summary>
/// What a silo does: trains (hosts trainers, shards, dense grains and jobs), serves (keeps replicas and scores),
/// or both; and whether it takes clients' admin calls on the job and deployment grains it hosts
/// (<c>Freshet:Silo:AdminCalls</c>; off on serving-only silos facing scoring traffic, which then host none).
/// </summary>
public sealed record SiloRoles(bool Training, bool Serving, bool AdminCalls = true)
{
    public static readonly SiloRoles Both = new(true, true);

    public static readonly SiloRoles TrainingOnly = new(true, false);

    public static readonly SiloRoles ServingOnly = new(false, true);

    public static SiloRoles Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = parts.Where(p => p is not (TrainingName or ServingName)).ToList();
        if (parts.Length == 0 || unknown.Count > 0)
        {
            throw new ArgumentException($"'{text}' is not a list of roles; use training, serving or training,serving");
        }
        return new SiloRoles(parts.Contains(TrainingName), parts.Contains(ServingName));
    }

    private const string TrainingName = "training";
    private const string ServingName = "serving";

    /// <summary>The roles as configuration writes them (<c>Freshet:Silo:Roles</c>): <c>training</c>, <c>serving</c> or <c>training,serving</c>.</summary>
    public override string ToString() => string.Join(",", new[] { Training ? TrainingName : null, Serving ? ServingName : null }.OfType<string>());
}
