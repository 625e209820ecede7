namespace Freshet.Grains.Weights;

/// <summary>What a weights message says (<see cref="WeightMessage"/>); its number is part of what the seal covers.</summary>
[GenerateSerializer, Alias("Freshet.Serving.WeightMessageKind")]
public enum WeightMessageKind
{
    /// <summary>A chunk of a weight delta.</summary>
    Delta,

    /// <summary>A new full checkpoint to serve from now on (daily swap, promotion switch).</summary>
    Checkpoint,

    /// <summary>Serve this (older) checkpoint from now on and refuse deltas on any other base.</summary>
    Rollback,

    /// <summary>The guard judged these weights good: replicas bring their copy of the last good weights up to them.</summary>
    Good,

    /// <summary>The guard rolled back: serve the last good weights (these) and refuse deltas after them on their checkpoint.</summary>
    Revert,
}
