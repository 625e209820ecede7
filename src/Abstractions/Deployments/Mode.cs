namespace Freshet.Deployments;

/// <summary>How a served model is kept fresh (DESIGN.md section 1).</summary>
[GenerateSerializer, Alias("Freshet.Deployments.Mode")]
public enum Mode
{
    /// <summary>One job trains every tier; deltas every publish interval; a full checkpoint once a day.</summary>
    Daily,

    /// <summary>Model A trains every tier and checkpoints every N hours; Model B keeps the frozen tier locked and publishes deltas.</summary>
    Promotion,
}
