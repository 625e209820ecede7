namespace Freshet.Serving;

[GenerateSerializer, Immutable, Alias("Freshet.Serving.ScoreRequest")]
public sealed record ScoreRequest
{
    /// <summary>Rows scored in one call.</summary>
    public const int MaxRows = 1000;

    /// <summary>Fields in one row.</summary>
    public const int MaxFields = 256;

    /// <summary>Characters of one value (and of one item of a list).</summary>
    public const int MaxValueLength = 1024;

    /// <summary>Items of one list (<see cref="ScoreRow.Lists"/>).</summary>
    public const int MaxListItems = 1024;

    /// <summary>Characters of a field's name (a model's name follows <see cref="Freshet.Model.Schema.NameRule"/>).</summary>
    public const int MaxNameLength = 128;

    [Id(0)] public string Model { get; init; } = "";
    [Id(1)] public IReadOnlyList<ScoreRow> Rows { get; init; } = [];

    /// <summary>
    /// When the request happened (UTC); null: the serving silo's clock. Replays and simulations set it, so the rows'
    /// time features and the feedback loop's windows follow their time.
    /// </summary>
    [Id(2)] public DateTime? Time { get; init; }

    /// <summary>
    /// The limits every scoring call is held to, by the client before sending and by the silo on arrival
    /// (a caller may not use the client): throws <see cref="ScoringRequestException"/> naming the row, the
    /// field and the limit.
    /// </summary>
    public static void Validate(string? model, IReadOnlyList<ScoreRow>? rows)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new ScoringRequestException("model: name the model to score with");
        if (Freshet.Model.Schema.NameRule.Problem(model, "model") is { } problem) throw new ScoringRequestException(problem);
        if (rows is null || rows.Count == 0) throw new ScoringRequestException($"model '{model}': no rows to score");
        if (rows.Count > MaxRows)
        {
            throw new ScoringRequestException($"model '{model}': {rows.Count} rows in one call; at most {MaxRows} are scored per call: split the batch");
        }
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r]?.Values is not { } values) throw new ScoringRequestException($"model '{model}': row {r} is empty");
            var lists = rows[r].Lists ?? new Dictionary<string, IReadOnlyList<string>>();
            if (values.Count + lists.Count > MaxFields) throw new ScoringRequestException($"model '{model}': row {r} has {values.Count + lists.Count} fields; at most {MaxFields}");
            foreach (var (field, items) in lists)
            {
                if (string.IsNullOrEmpty(field)) throw new ScoringRequestException($"model '{model}': row {r} has a list without a name");
                if (field.Length > MaxNameLength) throw new ScoringRequestException($"model '{model}': row {r}: a field name has {field.Length} characters; at most {MaxNameLength}");
                if (values.ContainsKey(field)) throw new ScoringRequestException($"model '{model}': row {r}: field '{field}' is given both as a value and as a list; give one");
                if (items is null) throw new ScoringRequestException($"model '{model}': row {r}: list '{field}' is null (leave the field out for a missing value)");
                if (items.Count > MaxListItems) throw new ScoringRequestException($"model '{model}': row {r}: list '{field}' has {items.Count} items; at most {MaxListItems}");
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is not { } item) throw new ScoringRequestException($"model '{model}': row {r}: list '{field}', item {i} is null");
                    if (item.Length > MaxValueLength) throw new ScoringRequestException($"model '{model}': row {r}: list '{field}', item {i} has {item.Length} characters; at most {MaxValueLength}");
                }
            }
            if (values.Count > MaxFields) throw new ScoringRequestException($"model '{model}': row {r} has {values.Count} fields; at most {MaxFields}");
            foreach (var (field, value) in values)
            {
                if (string.IsNullOrEmpty(field)) throw new ScoringRequestException($"model '{model}': row {r} has a field without a name");
                if (field.Length > MaxNameLength) throw new ScoringRequestException($"model '{model}': row {r}: a field name has {field.Length} characters; at most {MaxNameLength}");
                if (value is null) throw new ScoringRequestException($"model '{model}': row {r}: field '{field}' has no value (leave the field out for a missing value)");
                if (value.Length > MaxValueLength)
                {
                    throw new ScoringRequestException($"model '{model}': row {r}: field '{field}' has a value of {value.Length} characters; at most {MaxValueLength}");
                }
            }
        }
    }
}
