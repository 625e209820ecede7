namespace Freshet.Admin;

/// <summary>
/// A call a client may not make: the grain is not one of the front doors, or an admin call came without
/// an admin certificate. The message says which door or certificate to use; the silo goes on serving.
/// </summary>
[GenerateSerializer, Alias("Freshet.Admin.ClientCallRefusedException")]
public sealed class ClientCallRefusedException : Exception
{
    public ClientCallRefusedException() { }

    public ClientCallRefusedException(string message) : base(message) { }

    public ClientCallRefusedException(string message, Exception inner) : base(message, inner) { }
}
