namespace Freshet.Model.Serving;

/// <summary>What a replica did with a delta offered to it.</summary>
public enum DeltaOutcome
{
    /// <summary>The next in sequence on the current base: applied.</summary>
    Applied,

    /// <summary>Already applied (a redelivery): ignored.</summary>
    Duplicate,

    /// <summary>Built on another base than the one serving follows (e.g. a newer base after a rollback): refused.</summary>
    Refused,

    /// <summary>Deltas before it are missing: catch up from the store first, never skip.</summary>
    Gap,

    /// <summary>On the base serving follows, which this replica has not loaded yet: load it first.</summary>
    NeedsBase,
}
