namespace Freshet.Grains.Admin;

/// <summary>
/// Puts a <see cref="SiloCallProof"/> on every call this silo sends to a silo (grains, system targets, silos' own
/// clients), and takes any proof off a call to a client: a client never sees one, on an observer call or a stream
/// delivery alike, and the request context a grain was called with (a silo's proof, or whatever a client put there)
/// never travels on as it is.
/// </summary>
public sealed class SiloCallProofFilter(SiloCallProof proofs, IClusterMembershipService membership) : IOutgoingGrainCallFilter
{
    private const string HostedClientPrefix = "hosted-";

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (IsClient(context.TargetId)) RequestContext.Remove(SiloCallProof.Key);
        else RequestContext.Set(SiloCallProof.Key, proofs.Create(context.InterfaceName, context.MethodName));
        await context.Invoke();
    }

    /// <summary>A client outside the cluster: a client id that is not the hosted client of a silo the membership lists.</summary>
    private bool IsClient(GrainId target)
    {
        if (!GrainTypePrefix.IsClient(target)) return false;
        var key = target.Key.ToString()!;
        if (!key.StartsWith(HostedClientPrefix, StringComparison.Ordinal)) return true;
        try
        {
            return !membership.CurrentSnapshot.Members.ContainsKey(SiloAddress.FromParsableString(key[HostedClientPrefix.Length..]));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return true;
        }
    }
}
