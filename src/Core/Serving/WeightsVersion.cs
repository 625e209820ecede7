using System.Globalization;

namespace Freshet.Model.Serving;

/// <summary>
/// Which weights: the full checkpoint they start from, and the last delta applied on it (0: the checkpoint
/// alone). Deltas count from 1 on each checkpoint. One type for every place a version is named: deltas and
/// announcements on the weights stream, publishes, replicas, predictions and deployment events.
/// </summary>
[GenerateSerializer, Immutable, Alias("freshet.weights-version")]
public readonly record struct WeightsVersion : IComparable<WeightsVersion>
{
    public WeightsVersion(long checkpoint, long delta = 0)
    {
        Checkpoint = checkpoint;
        Delta = delta;
    }

    /// <summary>The full checkpoint's version.</summary>
    [Id(0)] public long Checkpoint { get; init; }

    /// <summary>The delta's sequence on <see cref="Checkpoint"/> (0: none).</summary>
    [Id(1)] public long Delta { get; init; }

    /// <summary>The delta published after this one on the same checkpoint (a method: JSON state serializers walk properties).</summary>
    public WeightsVersion NextDelta() => this with { Delta = Delta + 1 };

    public int CompareTo(WeightsVersion other) => Checkpoint != other.Checkpoint ? Checkpoint.CompareTo(other.Checkpoint) : Delta.CompareTo(other.Delta);

    public static bool operator <(WeightsVersion a, WeightsVersion b) => a.CompareTo(b) < 0;

    public static bool operator >(WeightsVersion a, WeightsVersion b) => a.CompareTo(b) > 0;

    public static bool operator <=(WeightsVersion a, WeightsVersion b) => a.CompareTo(b) <= 0;

    public static bool operator >=(WeightsVersion a, WeightsVersion b) => a.CompareTo(b) >= 0;

    /// <summary><c>v{checkpoint}</c>, or <c>v{checkpoint}+{delta}</c> once a delta is applied.</summary>
    public override string ToString() => Delta == 0
        ? string.Create(CultureInfo.InvariantCulture, $"v{Checkpoint}")
        : string.Create(CultureInfo.InvariantCulture, $"v{Checkpoint}+{Delta}");
}
