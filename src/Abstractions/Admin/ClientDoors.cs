using System.Reflection;

namespace Freshet.Admin;

/// <summary>The one rule, shared by the client (which signs admin calls) and the silo (which enforces it), of what clients may call.</summary>
public static class ClientDoors
{
    private const string ManagementGrain = "Orleans.Runtime.IManagementGrain";

    /// <summary>
    /// The access a client needs for <paramref name="method"/> (a grain interface method), or null when the
    /// interface is not Freshet's to govern (Orleans's stream and membership plumbing). Freshet's interfaces
    /// are closed unless marked <see cref="ClientCallableAttribute"/>; Orleans's management grain is open to
    /// reads and takes admin access for anything else (it can deactivate any grain).
    /// </summary>
    public static ClientAccess? AccessOf(MethodInfo method)
    {
        var declaring = method.DeclaringType;
        if (method.GetCustomAttribute<ClientCallableAttribute>() is { } onMethod) return onMethod.Access;
        if (declaring?.GetCustomAttribute<ClientCallableAttribute>() is { } onInterface) return onInterface.Access;
        if (declaring?.FullName == ManagementGrain) return method.Name.StartsWith("Get", StringComparison.Ordinal) ? ClientAccess.Read : ClientAccess.Admin;
        return declaring?.Namespace is { } ns && (ns == "Freshet" || ns.StartsWith("Freshet.", StringComparison.Ordinal)) ? ClientAccess.None : null;
    }

    /// <summary>What the key of the grain <paramref name="method"/> belongs to names (job, model), when clients choose it; else null.</summary>
    public static string? KeyNamesOf(MethodInfo method) =>
        method.DeclaringType?.GetCustomAttribute<ClientCallableAttribute>()?.KeyNames;

    /// <summary>The name of a method as errors and admin proofs give it: <c>Interface.Method</c>.</summary>
    public static string Describe(MethodInfo method) => $"{method.DeclaringType?.Name}.{method.Name}";
}
