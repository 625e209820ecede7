namespace Freshet.Model.Training;

/// <summary>The embedding rows and rate statistics of one step, and the event time the step happens at.</summary>
public sealed class RowBatch(IReadOnlyList<TableBatch> tables, IReadOnlyList<RateBatch> rates)
{
    public IReadOnlyList<TableBatch> Tables { get; } = tables;

    public IReadOnlyList<RateBatch> Rates { get; } = rates;

    /// <summary>Event time of the step (UTC ticks): rows read while training are marked seen at it.</summary>
    public long Now { get; set; }

    /// <summary>The trainer's number for this step (1, 2, ...), recorded beside the weights it changes.</summary>
    public long Step { get; set; }

    /// <summary>
    /// No sample the trainer scores after this step is older (UTC ticks): rate events before it can be settled.
    /// A step run on its own (no stream around it) settles everything.
    /// </summary>
    public long Watermark { get; set; } = long.MaxValue;
}
