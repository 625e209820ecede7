using System.Security.Cryptography.X509Certificates;

namespace Freshet.Admin;

/// <summary>A proof <see cref="AdminProof.Verify"/> found good for its call: who signed it, its nonce, and when it was made (UTC).</summary>
public sealed record AdminProofCheck(X509Certificate2 Certificate, string Nonce, DateTime Made);
