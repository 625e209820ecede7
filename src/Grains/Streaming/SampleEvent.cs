using Freshet.Model.Data;
using Freshet.Samples;

namespace Freshet.Grains.Streaming;

/// <summary>
/// One Event Hubs event of plain JSON samples, read: the stream its rows go to (job, trainer partition,
/// task), the rows that were good, and the rows (or the whole event) that were skipped and why.
/// <see cref="Job"/> is null when no row could be routed: the event goes nowhere.
/// </summary>
public sealed record SampleEvent(string? Job, int Partition, TaskKind Task, IReadOnlyList<RawSample> Rows, IReadOnlyList<SampleRejection> Rejected, int RowCount)
{
    public bool Routed => Job is not null;

    /// <summary>The Orleans stream of the rows: <c>samples/{job}/{partition}/{task}</c>.</summary>
    public Orleans.Runtime.StreamId StreamId => SampleStreams.Id(Job!, Partition, Task);
}
