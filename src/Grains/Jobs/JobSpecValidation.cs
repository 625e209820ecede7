using Freshet.Jobs;
using Freshet.Model.Schema;

namespace Freshet.Grains.Jobs;

/// <summary>A job's spec checked before anything is created: its schema parses and its numbers are within the rules.</summary>
internal static class JobSpecValidation
{
    /// <summary>The schema the job trains, or a <see cref="JobRequestException"/> naming every problem.</summary>
    public static FeatureSchema Validate(JobSpec spec)
    {
        FeatureSchema schema;
        try
        {
            schema = SchemaLoader.Parse(spec.SchemaJson, $"job schema");
        }
        catch (SchemaException e)
        {
            throw new JobRequestException(e.Message);
        }
        if (JobSpecRules.Problems(spec) is { Count: > 0 } problems)
        {
            throw new JobRequestException(string.Join("; ", problems));
        }
        return schema;
    }
}
