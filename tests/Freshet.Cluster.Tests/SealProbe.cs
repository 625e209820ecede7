using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace Freshet.Cluster.Tests;

/// <summary>
/// Knocks on every door a client can address, the way a hostile client would: every method of every grain interface in
/// Freshet's assemblies and Orleans', on the grains and system targets the silos hold (their real keys) and on fresh
/// keys, called from a client with default arguments. Each call carries a tag (request context <see cref="TagKey"/>)
/// naming its door and target; two filters the test puts on the silos record the tags they see, one before every other
/// filter (the call arrived) and one after them (the call was let through to the grain or system target).
/// </summary>
public sealed class SealProbe
{
    public const string TagKey = "seal-test.door";

    /// <summary>Tags of calls that reached a silo's filters.</summary>
    public Recorder Arrived { get; } = new();

    /// <summary>Tags of calls the silo let through to grain code.</summary>
    public Recorder Accepted { get; } = new();

    /// <summary>A door: an interface method (<c>Namespace.Interface.Method/arity</c>) on one grain or system target.</summary>
    public sealed record Attempt(string Door, MethodInfo Method, Type Interface, GrainId Target, bool OneWay)
    {
        public string Tag => $"{Door}@{Target}";
    }

    /// <summary>What came back to the client.</summary>
    public sealed record Outcome(Attempt Attempt, Exception? Error, bool Skipped = false);

    public static string DoorOf(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}/{method.GetParameters().Length}";

    /// <summary>Records the tag of every call whose door and target match it (calls a door makes on the caller's behalf carry the tag too, not the door).</summary>
    public sealed class Recorder : IIncomingGrainCallFilter
    {
        public ConcurrentDictionary<string, byte> Tags { get; } = new();

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (RequestContext.Get(TagKey) is string tag && context.InterfaceMethod is { } method && tag == $"{DoorOf(method)}@{context.TargetId}") Tags.TryAdd(tag, 0);
            return context.Invoke();
        }
    }

    /// <summary>
    /// Every door to try: each grain interface implemented by an activation (grain or system target) on the silos, on
    /// one activation of each grain type, with its real key; each grain extension Orleans has, on <paramref name="extended"/>;
    /// and each grain interface of Freshet's and Orleans' assemblies not already covered, on <paramref name="keyOf"/>'s key.
    /// </summary>
    public static IReadOnlyList<Attempt> Doors(IEnumerable<IServiceProvider> silos, IEnumerable<GrainId> extended, IGrainFactory client, Func<Type, string> keyOf)
    {
        var assemblies = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is { } n && (n.StartsWith("Orleans", StringComparison.Ordinal) || n.StartsWith("Freshet", StringComparison.Ordinal)))
            .ToList();
        var interfaces = assemblies.SelectMany(Types).Where(IsDoor).Distinct().ToList();
        var attempts = new List<Attempt>();
        var covered = new HashSet<Type>();

        // What the silos hold: grains and system targets, one of each type, with their real ids.
        var directoryType = Type.GetType("Orleans.Runtime.ActivationDirectory, Orleans.Runtime", throwOnError: true)!;
        var seenTypes = new HashSet<GrainType>();
        foreach (var silo in silos)
        {
            var directory = (System.Collections.IEnumerable)silo.GetRequiredService(directoryType);
            foreach (var entry in directory.Cast<KeyValuePair<GrainId, IGrainContext>>())
            {
                if (entry.Value.GrainInstance is not { } instance || !seenTypes.Add(entry.Key.Type)) continue;
                foreach (var contract in instance.GetType().GetInterfaces().Where(IsDoor))
                {
                    covered.Add(contract);
                    attempts.AddRange(MethodsOf(contract, entry.Key));
                }
            }
        }

        // Orleans' grain extensions (stream deliveries, grain management, cancellation) on grains that hold them.
        foreach (var target in extended)
        {
            foreach (var extension in interfaces.Where(i => typeof(IGrainExtension).IsAssignableFrom(i)))
            {
                covered.Add(extension);
                attempts.AddRange(MethodsOf(extension, target));
            }
        }

        // Every other grain interface, on a key of its own.
        foreach (var contract in interfaces.Where(i => !covered.Contains(i) && typeof(IGrain).IsAssignableFrom(i)))
        {
            var target = KeyedId(client, contract, keyOf(contract));
            if (target is { } id) attempts.AddRange(MethodsOf(contract, id));
        }
        return attempts;
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    /// <summary>An interface a client can address (a grain, grain extension or system target contract) that declares methods.</summary>
    private static bool IsDoor(Type t) =>
        t.IsInterface && typeof(IAddressable).IsAssignableFrom(t) && !typeof(IGrainObserver).IsAssignableFrom(t)
        && t.GetMethods().Length > 0 && !t.ContainsGenericParameters;

    private static IEnumerable<Attempt> MethodsOf(Type contract, GrainId target) =>
        contract.GetMethods().Select(m => new Attempt(DoorOf(m), m, contract, target, m.GetCustomAttribute<OneWayAttribute>() is not null));

    /// <summary>The id a client's reference to <paramref name="contract"/> with <paramref name="key"/> names; null when the cluster has no grain class for it.</summary>
    private static GrainId? KeyedId(IGrainFactory client, Type contract, string key)
    {
        try
        {
            IAddressable reference;
            if (typeof(IGrainWithIntegerKey).IsAssignableFrom(contract)) reference = client.GetGrain(contract, 0L);
            else if (typeof(IGrainWithGuidKey).IsAssignableFrom(contract)) reference = client.GetGrain(contract, Guid.Empty);
            else if (typeof(IGrainWithStringKey).IsAssignableFrom(contract)) reference = client.GetGrain(contract, key);
            else return null;
            return reference.GetGrainId();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Calls every door from <paramref name="grains"/> (a client), tagged, with default arguments; waits for each answer until <paramref name="deadline"/>.</summary>
    public static async Task<IReadOnlyList<Outcome>> KnockAsync(IGrainFactory grains, IReadOnlyList<Attempt> attempts, TimeSpan deadline)
    {
        var outcomes = new List<Outcome>();
        var getGrain = typeof(IGrainFactory).GetMethods().Single(m => m.Name == nameof(IGrainFactory.GetGrain) && m.IsGenericMethodDefinition
            && m.GetParameters() is [{ ParameterType: var p }] && p == typeof(GrainId));
        foreach (var attempt in attempts)
        {
            var method = attempt.Method;
            if (method.IsGenericMethodDefinition)
            {
                try
                {
                    method = method.MakeGenericMethod([.. method.GetGenericArguments().Select(a => a.GetGenericParameterConstraints().FirstOrDefault(c => c.IsInterface) ?? typeof(object))]);
                }
                catch (ArgumentException)
                {
                    outcomes.Add(new Outcome(attempt, null, Skipped: true));
                    continue;
                }
            }
            var reference = getGrain.MakeGenericMethod(attempt.Interface).Invoke(grains, [attempt.Target]);
            var arguments = method.GetParameters().Select(p => p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray();
            RequestContext.Set(TagKey, attempt.Tag);
            try
            {
                var result = method.Invoke(reference, arguments);
                await AwaitAsync(result).WaitAsync(deadline);
                outcomes.Add(new Outcome(attempt, null));
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                outcomes.Add(new Outcome(attempt, inner));
            }
            catch (Exception e)
            {
                outcomes.Add(new Outcome(attempt, e));
            }
            finally
            {
                RequestContext.Remove(TagKey);
            }
        }
        return outcomes;
    }

    private static async Task AwaitAsync(object? result)
    {
        switch (result)
        {
            case null:
                return;
            case Task task:
                await task;
                return;
            case ValueTask valueTask:
                await valueTask;
                return;
        }
        var type = result.GetType();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            await (Task)type.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null)!;
            return;
        }
        if (type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>)) is { } enumerable)
        {
            var enumerator = enumerable.GetMethod(nameof(IAsyncEnumerable<int>.GetAsyncEnumerator))!.Invoke(result, [CancellationToken.None])!;
            var next = (ValueTask<bool>)enumerator.GetType().GetInterfaces().Single(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAsyncEnumerator<>))
                .GetMethod(nameof(IAsyncEnumerator<int>.MoveNextAsync))!.Invoke(enumerator, null)!;
            await next;
        }
    }
}
