namespace Freshet.Model.Data;

/// <summary>The two learning tasks: CTR samples are impressions labelled by click, CVR samples are clicks labelled by conversion.</summary>
[GenerateSerializer, Alias("freshet.task")]
public enum TaskKind
{
    Ctr,
    Cvr,
}

public static class TaskKinds
{
    public static readonly IReadOnlyList<TaskKind> All = [TaskKind.Ctr, TaskKind.Cvr];

    /// <summary>The task's name in the plain JSON sample format, stream keys, metric tags and feature names: <c>ctr</c> or <c>cvr</c>.</summary>
    public static string Name(this TaskKind task) => task == TaskKind.Ctr ? "ctr" : "cvr";

    /// <summary>Parses <c>ctr</c> or <c>cvr</c> (exactly, as the JSON format writes them).</summary>
    public static bool TryParse(string? text, out TaskKind task)
    {
        task = text == "cvr" ? TaskKind.Cvr : TaskKind.Ctr;
        return text is "ctr" or "cvr";
    }
}
