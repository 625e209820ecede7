using System.Text.Json.Serialization;

namespace Freshet.Model.Schema;

/// <summary>One input of the model: a column (or a value derived from the event time) and how it is embedded.</summary>
public sealed class FieldSpec
{
    public string Name { get; set; } = "";

    /// <summary>Column name, optionally with a type (<c>user_id:token</c>, <c>price:float</c>), or <c>#N</c> for the N-th column.</summary>
    public string? Column { get; set; }

    public FieldKind? Kind { get; set; }

    public Tier? Tier { get; set; }

    /// <summary>Embedding width (id and ids fields).</summary>
    public int? Dim { get; set; }

    /// <summary>Name of the embedding table; fields naming the same table share its rows (e.g. a history bag and the item id).</summary>
    public string? Table { get; set; }

    /// <summary>Separator of the values of an <c>ids</c> column.</summary>
    public string? Separator { get; set; }

    /// <summary>Most values kept from an <c>ids</c> column (the last ones: logs list history oldest first); a sequence's length (default 20).</summary>
    public int? MaxLength { get; set; }

    public NumericTransform? Transform { get; set; }

    /// <summary>Computes the field from the event time (a time feature).</summary>
    public TimeDerivation? Derive { get; set; }

    /// <summary>Marks the field as a time feature (true) or overrides the name-based detection (false).</summary>
    public bool? TimeFeature { get; set; }

    /// <summary>Admission filter: an id gets a row only after this many occurrences.</summary>
    public int? MinCount { get; set; }

    /// <summary>Expiry: a row not seen for this long (event time, e.g. <c>7d</c>) is evicted.</summary>
    public string? ExpireAfter { get; set; }

    /// <summary>Hard row cap of the table; the least recently seen rows are evicted beyond it. A sequence: the most keys kept (default 1,000,000).</summary>
    public long? MaxRows { get; set; }

    public SparseOptimizerKind? Optimizer { get; set; }

    /// <summary>Rate fields: the id field whose label rate is counted.</summary>
    public string? Of { get; set; }

    /// <summary>
    /// Ids fields: each value is looked up in a side file and replaced by this (prefixed) lookup column's value for it,
    /// e.g. a history of news ids read as the news' categories (<c>"through": "news_category"</c>); values the side file
    /// lacks are dropped. A scoring request gives the replaced values.
    /// </summary>
    public string? Through { get; set; }

    /// <summary>Sequence fields: the id field whose values the sequence records (e.g. <c>item</c>); its table embeds them.</summary>
    public string? From { get; set; }

    /// <summary>Sequence fields: what is recorded: <c>click</c> (the default), <c>impression</c> (every sample of the log's first task) or <c>conversion</c> (at its conversion time).</summary>
    public string? Event { get; set; }

    /// <summary>Ids and sequence fields: how the values are pooled into one input (<c>mean</c>, the default, or <c>attention</c> against <see cref="Target"/>).</summary>
    public BagPooling? Pooling { get; set; }

    /// <summary>
    /// Ids and sequence fields pooled by attention: the id field whose value is the candidate the values are weighed
    /// against; it must embed in the same table. Default: a sequence's <see cref="From"/>, an ids field's first id field
    /// sharing its table.
    /// </summary>
    public string? Target { get; set; }

    /// <summary>Rate fields: <c>click</c> (counted on CTR samples) or <c>conversion</c> (on CVR samples).</summary>
    public string? Label { get; set; }

    /// <summary>Rate fields: pseudo-samples of the global rate mixed into each id's rate (default 10).</summary>
    public double? Prior { get; set; }

    public float? LearningRate { get; set; }

    [JsonIgnore]
    public string TableName => string.IsNullOrEmpty(Table) ? Name : Table;

    [JsonIgnore]
    public ColumnRef? ColumnRef => Column is null ? null : Schema.ColumnRef.Parse(Column);
}
