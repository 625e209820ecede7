namespace Freshet.Model.Schema;

/// <summary>What a reader does with a row it cannot parse.</summary>
public enum BadRowPolicy
{
    /// <summary>Skip the row, count it per reason and report the first few with file and line.</summary>
    Skip,

    /// <summary>Stop at the row with its file, line and reason.</summary>
    Fail,
}
