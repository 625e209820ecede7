using Freshet.Model.Schema;
using Freshet.Model.Sequences;
using Freshet.Model.Synthetic;

namespace Freshet.Model.Data;

/// <summary>
/// Schema + data location → samples in event-time order. <c>--data</c> is a log file, a folder
/// holding <c>source.file</c> and the lookups' files, or <c>synthetic</c> for the built-in generator.
/// </summary>
public sealed class SampleReader
{
    public const string SyntheticData = "synthetic";

    private readonly RowFeaturizer _featurizer;

    private SampleReader(FeatureSchema schema, FeatureLayout layout, IRowSource source, RowFeaturizer featurizer, BadRows bad)
    {
        Schema = schema;
        Layout = layout;
        Source = source;
        _featurizer = featurizer;
        BadRows = bad;
    }

    public FeatureSchema Schema { get; }

    public FeatureLayout Layout { get; }

    public IRowSource Source { get; }

    public BadRows BadRows { get; }

    public static SampleReader Open(FeatureSchema schema, string data, BadRowPolicy? policy = null, int sortChunkLines = EventTimeSorter.DefaultChunkLines)
    {
        var layout = FeatureLayout.From(schema);
        var bad = new BadRows(policy ?? schema.Source.BadRows);
        IRowSource source;
        if (data == SyntheticData)
        {
            if (schema.Source.Format != "synthetic")
            {
                throw new SchemaException($"--data synthetic needs a schema whose source.format is 'synthetic' (e.g. schemas/synthetic.json); {schema.Origin} reads '{schema.Source.Format}' logs");
            }
            source = new SyntheticStream(schema.Source.Synthetic ?? new SyntheticOptions());
        }
        else
        {
            if (schema.Source.Format == "synthetic")
            {
                throw new SchemaException($"{schema.Origin} describes the synthetic stream; pass --data synthetic, or a schema for the log at '{data}'");
            }
            source = new DelimitedRowSource(schema, ResolveLogFile(schema, data), sortChunkLines);
        }
        var lookups = new List<LookupTable>();
        var wanted = ReferencedColumns(schema);
        for (var i = 0; i < (schema.Source.Lookups?.Count ?? 0); i++)
        {
            lookups.Add(LookupTable.Load(schema.Source.Lookups![i], source.Folder ?? ".", wanted, bad, i));
        }
        var featurizer = new RowFeaturizer(schema, layout, source.ColumnNames, lookups, source.Description);
        return new SampleReader(schema, layout, source, featurizer, bad);
    }

    /// <summary>One row of <see cref="Source"/> as its samples (a CTR sample, and a CVR sample when clicked); bad rows are counted in <see cref="BadRows"/>.</summary>
    public void Featurize(RawRow row, List<Sample> output) => _featurizer.Featurize(row, BadRows, output);

    /// <summary>
    /// Samples in event-time order, at most <paramref name="maxSamples"/>; sequence fields filled per event from the
    /// samples before (<see cref="SequenceTracker"/>), each read starting from none.
    /// </summary>
    public IEnumerable<Sample> Read(long? maxSamples = null, CancellationToken cancellationToken = default)
    {
        var buffer = new List<Sample>();
        long emitted = 0;
        var sequences = new SequenceTracker(Schema, Layout);
        foreach (var row in Source.Read(BadRows, cancellationToken))
        {
            buffer.Clear();
            _featurizer.Featurize(row, BadRows, buffer);
            foreach (var s in buffer)
            {
                if (maxSamples is { } max && emitted >= max) yield break;
                emitted++;
                if (sequences.Any)
                {
                    sequences.Fill(s);
                    sequences.Record(s);
                }
                yield return s;
            }
            if (maxSamples is { } m && emitted >= m) yield break;
        }
    }

    public static string ResolveLogFile(FeatureSchema schema, string data)
    {
        if (Directory.Exists(data))
        {
            if (string.IsNullOrEmpty(schema.Source.File))
            {
                throw new SchemaException($"--data '{data}' is a folder but {schema.Origin} has no source.file; pass the log file itself, or set source.file");
            }
            var path = Path.Combine(data, schema.Source.File);
            if (!File.Exists(path))
            {
                throw new SchemaException($"source.file: '{schema.Source.File}' is not in the folder '{data}'");
            }
            return path;
        }
        if (File.Exists(data))
        {
            return data;
        }
        throw new SchemaException($"--data '{data}' is neither a file nor a folder (or use --data synthetic with a synthetic schema)");
    }

    private static HashSet<string> ReferencedColumns(FeatureSchema s)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in s.Fields)
        {
            if (f.ColumnRef is { } c) set.Add(c.Name);
            if (f.Through is { } through) set.Add(through);
        }
        foreach (var r in new[] { s.Labels.Click, s.Labels.Conversion })
        {
            if (r is null) continue;
            set.Add(ColumnRef.Parse(r.Column).Name);
            if (r.DelayColumn is not null) set.Add(ColumnRef.Parse(r.DelayColumn).Name);
        }
        if (s.Group is not null) set.Add(ColumnRef.Parse(s.Group).Name);
        if (s.Oracle?.Click is { } oc) set.Add(ColumnRef.Parse(oc).Name);
        if (s.Oracle?.Conversion is { } ov) set.Add(ColumnRef.Parse(ov).Name);
        return set;
    }
}
