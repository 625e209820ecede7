using Freshet.Model.Schema;

namespace Freshet.Model.Sequences;

/// <summary>What a sequence field records (<see cref="FieldKind.Sequence"/>), in replay and live alike.</summary>
public enum SequenceEvent
{
    /// <summary>A click, at its impression's time.</summary>
    Click,

    /// <summary>Every sample of the log's first task, at its time.</summary>
    Impression,

    /// <summary>A conversion, at its own time.</summary>
    Conversion,
}
