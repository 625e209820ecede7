using System.Text;

namespace Freshet.Serving;

/// <summary>
/// A scoring request as it crosses the wire: the rows' field names once, and every value as UTF-8 in one buffer with a
/// length per cell (row-major; -1: the row leaves the field out). The SDK builds it from <see cref="ScoreRow"/>s
/// (<see cref="Of"/>); the silo featurizes straight from the bytes, with no dictionary or string per value. A silo
/// checks every count and length against <see cref="ScoreRequest"/>'s limits before it reads a value (<see cref="Problem"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreBatch")]
public sealed record ScoreBatch
{
    /// <summary>The most UTF-8 bytes a value of <see cref="ScoreRequest.MaxValueLength"/> characters can take.</summary>
    public const int MaxValueBytes = ScoreRequest.MaxValueLength * 3;

    [Id(0)] public string Model { get; init; } = "";

    /// <summary>When the request happened (UTC); null: now by the serving silo's clock.</summary>
    [Id(1)] public DateTime? Time { get; init; }

    [Id(2)] public int Rows { get; init; }

    /// <summary>The field names the rows give, each once.</summary>
    [Id(3)] public string[] Fields { get; init; } = [];

    /// <summary>Each cell's value's UTF-8 byte count, row by row (<see cref="Rows"/> x <see cref="Fields"/>); -1 where the row has no such field.</summary>
    [Id(4)] public int[] Lengths { get; init; } = [];

    /// <summary>The values' UTF-8 bytes, one after another in <see cref="Lengths"/>' order.</summary>
    [Id(5)] public byte[] Text { get; init; } = [];

    /// <summary>
    /// The batch of <paramref name="rows"/>, which <see cref="ScoreRequest.Validate"/> accepted and none of which gives lists.
    /// </summary>
    public static ScoreBatch Of(string model, IReadOnlyList<ScoreRow> rows, DateTime? time)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var fields = new List<string>();
        var bytes = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            foreach (var (field, value) in rows[r].Values)
            {
                if (index.TryAdd(field, fields.Count)) fields.Add(field);
                bytes += Encoding.UTF8.GetByteCount(value);
            }
        }
        if (fields.Count > ScoreRequest.MaxFields)
        {
            throw new ScoringRequestException($"model '{model}': the rows name {fields.Count} different fields; at most {ScoreRequest.MaxFields} in one call");
        }
        var lengths = new int[rows.Count * fields.Count];
        Array.Fill(lengths, -1);
        var text = new byte[bytes];
        var at = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            // Values go in cell order, so a row's are written field by field as the batch orders them.
            var values = rows[r].Values;
            for (var f = 0; f < fields.Count; f++)
            {
                if (!values.TryGetValue(fields[f], out var value)) continue;
                var n = Encoding.UTF8.GetBytes(value, text.AsSpan(at));
                lengths[r * fields.Count + f] = n;
                at += n;
            }
        }
        return new ScoreBatch { Model = model, Time = time, Rows = rows.Count, Fields = [.. fields], Lengths = lengths, Text = text };
    }

    /// <summary>What is wrong with a batch as received (its counts and lengths; values are read later), or null.</summary>
    public string? Problem()
    {
        if (Freshet.Model.Schema.NameRule.Problem(Model, "model") is { } name) return name;
        if (Rows <= 0) return $"model '{Model}': no rows to score";
        if (Rows > ScoreRequest.MaxRows) return $"model '{Model}': {Rows} rows in one call; at most {ScoreRequest.MaxRows} are scored per call: split the batch";
        if (Fields is null || Lengths is null || Text is null) return $"model '{Model}': the batch is incomplete (fields, lengths or text missing)";
        if (Fields.Length > ScoreRequest.MaxFields) return $"model '{Model}': {Fields.Length} fields; at most {ScoreRequest.MaxFields}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in Fields)
        {
            if (string.IsNullOrEmpty(field)) return $"model '{Model}': a field without a name";
            if (field.Length > ScoreRequest.MaxNameLength) return $"model '{Model}': a field name has {field.Length} characters; at most {ScoreRequest.MaxNameLength}";
            if (!seen.Add(field)) return $"model '{Model}': field '{field}' is named twice";
        }
        if (Lengths.Length != (long)Rows * Fields.Length) return $"model '{Model}': {Lengths.Length} value lengths for {Rows} rows of {Fields.Length} fields";
        long total = 0;
        for (var i = 0; i < Lengths.Length; i++)
        {
            var n = Lengths[i];
            if (n < -1 || n > MaxValueBytes) return $"model '{Model}': row {i / Math.Max(1, Fields.Length)}: field '{Fields[i % Fields.Length]}' has a value of {n} bytes; at most {MaxValueBytes}";
            if (n > 0) total += n;
        }
        return total != Text.Length ? $"model '{Model}': the values' lengths add up to {total} bytes, the text has {Text.Length}" : null;
    }
}
