namespace Freshet.Model.Training;

/// <summary>Settings of the streaming trainer.</summary>
public sealed class TrainerOptions
{
    /// <summary>What the trainer updates.</summary>
    public TrainingPlan Plan { get; set; } = Strategy.All;

    /// <summary>The model trained, as the <c>model</c> tag of the trainer's metrics (null: untagged).</summary>
    public string? Model { get; set; }

    /// <summary>The job training it, as the <c>job</c> tag (null: untagged).</summary>
    public string? Job { get; set; }

    /// <summary>Where the trainer's measurements go (step time, samples, windowed AUC); null records none.</summary>
    public Telemetry.FreshetInstruments? Instruments { get; set; }

    /// <summary>Samples per CTR step; null takes the schema's <c>model.batchSize</c>.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Samples per CVR step; null takes the schema's <c>model.cvrBatchSize</c>, else <see cref="Schema.ModelSpec.DefaultCvrBatchSize"/>.</summary>
    public int? CvrBatchSize { get; set; }

    /// <summary>Longest a partial batch waits (wall time) for more samples of its task on a live stream.</summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Event-time window of the windowed metrics.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often (event time) expired rows are evicted.</summary>
    public TimeSpan ExpireEvery { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// What the progressive evaluation keeps: bounded aggregates (the default, for trainers fed without end), or every
    /// sample for exact figures at the end of a bounded run (<c>freshet train</c>, the experiments).
    /// </summary>
    public Metrics.EvaluationDetail Evaluation { get; set; } = Metrics.EvaluationDetail.Bounded;

    /// <summary>Samples buffered per task between the reader and the trainer, in batches.</summary>
    public int BufferedBatches { get; set; } = 4;

    /// <summary>
    /// Called after each step with its batch, the model input rows it was scored on (batch x input width) and the
    /// scores it got before the update, on the trainer's thread: for inspection and tests.
    /// </summary>
    public Action<IReadOnlyList<Data.Sample>, ReadOnlyMemory<float>, ReadOnlyMemory<float>>? Inspect { get; set; }
}
