using System.Reflection;

namespace Freshet.Admin;

/// <summary>
/// The one rule, shared by the client (which signs admin calls) and the silo (which enforces it), of what clients may
/// call: deny by default. A client may call the methods of Freshet's interfaces marked <see cref="ClientCallableAttribute"/>
/// and, of Orleans' own, only what an Orleans client needs to connect and list the silos. Everything else (Freshet's
/// grains, Orleans' stream plumbing, its system targets and grain extensions) answers silos only.
/// </summary>
public static class ClientDoors
{
    /// <summary>
    /// Orleans' methods a client needs, by declaring interface and name: the cluster's manifest (every method; an Orleans
    /// client reads it when it connects and as it changes) and the list of silos (<c>FreshetClient.GetSilosAsync</c>).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, ClientAccess> OrleansDoors = new Dictionary<string, ClientAccess>(StringComparer.Ordinal)
    {
        ["Orleans.Runtime.IClusterManifestSystemTarget"] = ClientAccess.Read,
        ["Orleans.Runtime.IManagementGrain.GetHosts"] = ClientAccess.Read,
    };

    /// <summary>What a client may do, as a sentence for refusals: where each thing a client may do is done.</summary>
    public const string Doors =
        "score through IScoringGrain (FreshetClient.ScoreAsync), read status with FreshetClient.GetStatusAsync, report labels with " +
        "FreshetClient.ReportAsync, publish samples with SamplePublisher, and make admin calls on a job or deployment (FreshetClient.Job, FreshetClient.Deployment)";

    /// <summary>The access a client needs for <paramref name="method"/> (a grain interface method); <see cref="ClientAccess.None"/> unless opened.</summary>
    public static ClientAccess AccessOf(MethodInfo method)
    {
        var declaring = method.DeclaringType;
        if (method.GetCustomAttribute<ClientCallableAttribute>() is { } onMethod) return onMethod.Access;
        if (declaring?.GetCustomAttribute<ClientCallableAttribute>() is { } onInterface) return onInterface.Access;
        if (declaring?.FullName is { } name
            && (OrleansDoors.TryGetValue(name, out var access) || OrleansDoors.TryGetValue($"{name}.{method.Name}", out access)))
        {
            return access;
        }
        return ClientAccess.None;
    }

    /// <summary>What the key of the grain <paramref name="method"/> belongs to names (job, model), when clients choose it; else null.</summary>
    public static string? KeyNamesOf(MethodInfo method) =>
        method.DeclaringType?.GetCustomAttribute<ClientCallableAttribute>()?.KeyNames;

    /// <summary>The name of a method as errors and admin proofs give it: <c>Interface.Method</c>.</summary>
    public static string Describe(MethodInfo method) => $"{method.DeclaringType?.Name}.{method.Name}";

    /// <summary>Why a client's call of <paramref name="method"/> on <paramref name="target"/> is refused, and what to call instead.</summary>
    public static string Refusal(MethodInfo method, object target)
    {
        var ns = method.DeclaringType?.Namespace ?? "";
        var whose = ns == "Freshet" || ns.StartsWith("Freshet.", StringComparison.Ordinal)
            ? ""
            : ns.StartsWith("Orleans.Streams", StringComparison.Ordinal) || ns.StartsWith("Orleans.Providers", StringComparison.Ordinal)
                ? " (Orleans' stream plumbing: streams are written and read by silos only)"
                : " (Orleans' own plumbing, for silos only)";
        return $"{Describe(method)} on '{target}' is not open to clients{whose}: {Doors}";
    }
}
