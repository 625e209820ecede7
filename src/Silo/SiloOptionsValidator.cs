using Microsoft.Extensions.Options;

namespace Freshet.Silo;

/// <summary>Fails the start with a message that names the configuration key and what it must be.</summary>
public sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    private static readonly string[] Profiles = ["local", "azurite", "azure"];

    public ValidateOptionsResult Validate(string? name, SiloOptions o)
    {
        var errors = new List<string>();
        if (!Profiles.Contains(o.Profile))
        {
            errors.Add($"{SiloOptions.Section}:Profile: '{o.Profile}' is not a profile; use one of: {string.Join(", ", Profiles)}");
        }
        try
        {
            Grains.Serving.SiloRoles.Parse(o.Roles);
        }
        catch (ArgumentException e)
        {
            errors.Add($"{SiloOptions.Section}:Roles: {e.Message}");
        }
        if (o.SiloPort is < 1 or > 65535) errors.Add($"{SiloOptions.Section}:SiloPort: {o.SiloPort} is not a TCP port (1..65535)");
        if (o.GatewayPort is < 1 or > 65535) errors.Add($"{SiloOptions.Section}:GatewayPort: {o.GatewayPort} is not a TCP port (1..65535)");
        if (o.SiloPort == o.GatewayPort) errors.Add($"{SiloOptions.Section}:GatewayPort: must differ from SiloPort ({o.SiloPort})");
        if (o.HttpPort is { } http)
        {
            if (http is < 1 or > 65535) errors.Add($"{SiloOptions.Section}:HttpPort: {http} is not a TCP port (1..65535)");
            else if (http == o.SiloPort || http == o.GatewayPort) errors.Add($"{SiloOptions.Section}:HttpPort: must differ from SiloPort and GatewayPort ({o.SiloPort}, {o.GatewayPort})");
        }
        if (o.Dashboard && o.HttpPort is null) errors.Add($"{SiloOptions.Section}:Dashboard: the dashboard is served on the HTTP port; set {SiloOptions.Section}:HttpPort too");
        if (string.IsNullOrWhiteSpace(o.ClusterId)) errors.Add($"{SiloOptions.Section}:ClusterId: must not be empty");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) errors.Add($"{SiloOptions.Section}:ServiceId: must not be empty");
        if (o.Profile == "local" && string.IsNullOrWhiteSpace(o.CheckpointDirectory)) errors.Add($"{SiloOptions.Section}:CheckpointDirectory: the local profile needs a folder for checkpoints");
        if (o.Profile == "azurite" && !System.Net.IPAddress.TryParse(o.AdvertisedAddress, out _)) errors.Add($"{SiloOptions.Section}:AdvertisedAddress: '{o.AdvertisedAddress}' is not an IP address");
        if (o.Profile == "azurite" && o.StorageConnectionString is { } cs && !cs.Contains('=', StringComparison.Ordinal)) errors.Add($"{SiloOptions.Section}:StorageConnectionString: not a connection string (expected key=value pairs, e.g. UseDevelopmentStorage=true)");
        if (o.Profile == "azure")
        {
            if (!System.Net.IPAddress.TryParse(o.AdvertisedAddress, out _)) errors.Add($"{SiloOptions.Section}:AdvertisedAddress: '{o.AdvertisedAddress}' is not an IP address (on AKS, the pod IP)");
            Endpoint(o.BlobEndpoint, "BlobEndpoint", "https://ACCOUNT.blob.core.windows.net/", "blobEndpoint", errors);
            Endpoint(o.TableEndpoint, "TableEndpoint", "https://ACCOUNT.table.core.windows.net/", "tableEndpoint", errors);
            if (string.IsNullOrWhiteSpace(o.EventHubsNamespace))
            {
                errors.Add($"{SiloOptions.Section}:EventHubsNamespace: the azure profile needs the fully qualified Event Hubs namespace, e.g. NAME.servicebus.windows.net (deployment output eventHubsNamespace)");
            }
            else if (Uri.CheckHostName(o.EventHubsNamespace) != UriHostNameType.Dns || !o.EventHubsNamespace.Contains('.', StringComparison.Ordinal))
            {
                errors.Add($"{SiloOptions.Section}:EventHubsNamespace: '{o.EventHubsNamespace}' is not a host name; give the fully qualified namespace, e.g. NAME.servicebus.windows.net");
            }
            if (string.IsNullOrWhiteSpace(o.StreamsHub)) errors.Add($"{SiloOptions.Section}:StreamsHub: must name the Event Hub behind the streams");
            SamplesHub(o.CtrSamplesHub, "CtrSamplesHub", "ctr-samples", o, errors);
            SamplesHub(o.CvrSamplesHub, "CvrSamplesHub", "cvr-samples", o, errors);
            if (!string.IsNullOrWhiteSpace(o.CtrSamplesHub) && o.CtrSamplesHub == o.CvrSamplesHub)
            {
                errors.Add($"{SiloOptions.Section}:CvrSamplesHub: '{o.CvrSamplesHub}' is also CtrSamplesHub; the hub says an event's task, so CTR and CVR samples need a hub each");
            }
            foreach (var (job, trainers) in o.SampleJobs)
            {
                if (trainers < 1) errors.Add($"{SiloOptions.Section}:SampleJobs:{job}: {trainers} is not a trainer count; give the job's number of trainers (1 or more)");
            }
            if (!string.IsNullOrWhiteSpace(o.StorageConnectionString)) errors.Add($"{SiloOptions.Section}:StorageConnectionString: the azure profile uses endpoints and a managed identity, no connection strings (keys); remove it");
        }
        if (!string.IsNullOrWhiteSpace(o.TlsCertificate))
        {
            try
            {
                using var _ = Client.FreshetTls.Load(o.TlsCertificate, o.TlsCertificateKey, o.TlsCertificatePassword, $"{SiloOptions.Section}:TlsCertificate");
            }
            catch (ArgumentException e)
            {
                errors.Add(e.Message);
            }
        }
        try
        {
            Client.FreshetTls.ParseThumbprints(o.TlsTrustedThumbprints, $"{SiloOptions.Section}:TlsTrustedThumbprints");
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        try
        {
            var admins = Client.FreshetTls.ParseThumbprints(o.AdminCertificates, $"{SiloOptions.Section}:AdminCertificates");
            if (admins.Count > 0 && string.IsNullOrWhiteSpace(o.TlsCertificate))
            {
                errors.Add($"{SiloOptions.Section}:AdminCertificates: admin certificates are checked on TLS connections; set {SiloOptions.Section}:TlsCertificate too, or remove them");
            }
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void SamplesHub(string value, string key, string example, SiloOptions o, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{SiloOptions.Section}:{key}: must name the Event Hub plain JSON producers send samples to, e.g. {example}");
        }
        else if (value == o.StreamsHub)
        {
            errors.Add($"{SiloOptions.Section}:{key}: '{value}' is also StreamsHub; Orleans-framed streams and plain JSON samples cannot share a hub (each hub has one data adapter)");
        }
    }

    private static void Endpoint(string? value, string key, string example, string output, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{SiloOptions.Section}:{key}: the azure profile needs it, e.g. {example} (deployment output {output})");
        }
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{SiloOptions.Section}:{key}: '{value}' is not an https URI, e.g. {example}");
        }
    }
}
