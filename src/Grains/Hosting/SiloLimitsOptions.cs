namespace Freshet.Grains.Hosting;

/// <summary>
/// What a silo takes from the wire and what it keeps (keys under <c>Freshet:Silo</c>): how far ahead of its clock a
/// time may be, and how many models it holds loaded for serving.
/// </summary>
public sealed class SiloLimitsOptions
{
    /// <summary>
    /// How far ahead of this silo's clock a time on the wire may be (a scoring request's time, a prediction logged for
    /// its joiner, a reported label, a sample): clocks of producers and silos differ by a little, never by hours. A time
    /// further ahead is refused and counted (status, <c>freshet.times.rejected</c>); it would move a joiner's clock, and
    /// close its windows, for good.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Models a serving silo holds loaded at once: a scoring call for one more unloads the one used least recently, and
    /// a model that no deployment follows (no version announced) is unloaded once it has gone unused for a minute.
    /// </summary>
    public int MaxServedModels { get; set; } = 16;

    /// <summary>
    /// The least time between two heap compactions after a checkpoint (<see cref="HeapCompactor"/>): a served model swapped
    /// out or a shard's checkpoint written leaves garbage the size of a model, given back to the system by one compacting
    /// collection. 00:00:00 turns it off.
    /// </summary>
    public TimeSpan HeapCompactionInterval { get; set; } = TimeSpan.FromMinutes(1);
}
