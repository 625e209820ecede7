using System.Diagnostics;
using Freshet.Model.Data;

namespace Freshet.Model.Telemetry;

/// <summary>The tags Freshet's measurements carry, where they apply: the model, the job, the task.</summary>
public static class FreshetTags
{
    public static TagList Of(string? model = null, string? job = null, TaskKind? task = null)
    {
        var tags = new TagList();
        if (model is not null) tags.Add("model", model);
        if (job is not null) tags.Add("job", job);
        if (task is { } t) tags.Add("task", t.Name());
        return tags;
    }

    /// <summary>A copy of <paramref name="tags"/> with one more.</summary>
    public static TagList With(this TagList tags, string key, object? value)
    {
        var copy = tags;
        copy.Add(key, value);
        return copy;
    }
}
