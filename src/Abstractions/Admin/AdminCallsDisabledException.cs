namespace Freshet.Admin;

/// <summary>An admin call refused by the silo that runs its grain: that silo does not take admin calls (<c>Freshet:Silo:AdminCalls=false</c>).</summary>
[GenerateSerializer, Alias("Freshet.Admin.AdminCallsDisabledException")]
public sealed class AdminCallsDisabledException : Exception
{
    public AdminCallsDisabledException() { }

    public AdminCallsDisabledException(string message) : base(message) { }

    public AdminCallsDisabledException(string message, Exception inner) : base(message, inner) { }
}
