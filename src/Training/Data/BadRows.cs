using Freshet.Model.Schema;

namespace Freshet.Model.Data;

/// <summary>Applies the bad-row policy: counts skipped rows per reason and keeps the first few with file and line.</summary>
public sealed class BadRows(BadRowPolicy policy, int examplesKept = 5)
{
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);
    private readonly List<BadRowExample> _examples = [];

    public BadRowPolicy Policy { get; } = policy;

    public long Count { get; private set; }

    public IReadOnlyDictionary<string, long> ByReason => _byReason;

    public IReadOnlyList<BadRowExample> Examples => _examples;

    /// <summary>Records a bad row, or throws <see cref="MalformedRowException"/> under the fail policy.</summary>
    public void Report(string file, long line, string reason, string detail)
    {
        if (Policy == BadRowPolicy.Fail)
        {
            throw new MalformedRowException(file, line, reason, detail);
        }
        Count++;
        _byReason[reason] = _byReason.GetValueOrDefault(reason) + 1;
        if (_examples.Count < examplesKept)
        {
            _examples.Add(new BadRowExample(file, line, reason, detail));
        }
    }
}
