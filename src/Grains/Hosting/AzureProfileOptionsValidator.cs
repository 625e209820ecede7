using Microsoft.Extensions.Options;

namespace Freshet.Grains.Hosting;

/// <param name="storageConnectionString">The azurite profile's setting, which the azure profile refuses (it uses no keys).</param>
public sealed class AzureProfileOptionsValidator(string? storageConnectionString) : IValidateOptions<AzureProfileOptions>
{
    private const string Section = FreshetNames.SiloSection;

    public ValidateOptionsResult Validate(string? name, AzureProfileOptions o)
    {
        var errors = new List<string>();
        Endpoint(o.BlobEndpoint, "BlobEndpoint", "https://ACCOUNT.blob.core.windows.net/", "blobEndpoint", errors);
        Endpoint(o.TableEndpoint, "TableEndpoint", "https://ACCOUNT.table.core.windows.net/", "tableEndpoint", errors);
        if (string.IsNullOrWhiteSpace(o.EventHubsNamespace))
        {
            errors.Add($"{Section}:EventHubsNamespace: the azure profile needs the fully qualified Event Hubs namespace, e.g. NAME.servicebus.windows.net (deployment output eventHubsNamespace)");
        }
        else if (Uri.CheckHostName(o.EventHubsNamespace) != UriHostNameType.Dns || !o.EventHubsNamespace.Contains('.', StringComparison.Ordinal))
        {
            errors.Add($"{Section}:EventHubsNamespace: '{o.EventHubsNamespace}' is not a host name; give the fully qualified namespace, e.g. NAME.servicebus.windows.net");
        }
        if (string.IsNullOrWhiteSpace(o.StreamsHub)) errors.Add($"{Section}:StreamsHub: must name the Event Hub behind the streams");
        SamplesHub(o.CtrSamplesHub, "CtrSamplesHub", "ctr-samples", o, errors);
        SamplesHub(o.CvrSamplesHub, "CvrSamplesHub", "cvr-samples", o, errors);
        if (!string.IsNullOrWhiteSpace(o.CtrSamplesHub) && o.CtrSamplesHub == o.CvrSamplesHub)
        {
            errors.Add($"{Section}:CvrSamplesHub: '{o.CvrSamplesHub}' is also CtrSamplesHub; the hub says an event's task, so CTR and CVR samples need a hub each");
        }
        foreach (var (job, trainers) in o.SampleJobs)
        {
            if (trainers < 1) errors.Add($"{Section}:SampleJobs:{job}: {trainers} is not a trainer count; give the job's number of trainers (1 or more)");
        }
        if (!string.IsNullOrWhiteSpace(storageConnectionString))
        {
            errors.Add($"{Section}:StorageConnectionString: the azure profile uses endpoints and a managed identity, no connection strings (keys); remove it");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void SamplesHub(string value, string key, string example, AzureProfileOptions o, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{Section}:{key}: must name the Event Hub plain JSON producers send samples to, e.g. {example}");
        }
        else if (value == o.StreamsHub)
        {
            errors.Add($"{Section}:{key}: '{value}' is also StreamsHub; Orleans-framed streams and plain JSON samples cannot share a hub (each hub has one data adapter)");
        }
    }

    private static void Endpoint(string? value, string key, string example, string output, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{Section}:{key}: the azure profile needs it, e.g. {example} (deployment output {output})");
        }
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{Section}:{key}: '{value}' is not an https URI, e.g. {example}");
        }
    }
}
