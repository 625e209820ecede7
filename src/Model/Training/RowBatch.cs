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
}
