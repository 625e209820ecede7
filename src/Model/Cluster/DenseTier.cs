using System.Text;
using Freshet.Model.Checkpoints;
using Freshet.Model.Data;
using Freshet.Model.Schema;
using Freshet.Model.Towers;
using Freshet.Model.Training;

namespace Freshet.Model.Cluster;

/// <summary>
/// The authoritative dense tier of a model in the cluster: both towers, their optimizers and
/// batch-norm statistics, a version per tower bumped by every step, and the last step of each
/// trainer applied. Starts from the same seeded weights as any <see cref="EsmmModel"/> of the schema.
/// </summary>
public sealed class DenseTier : IDisposable
{
    private static readonly byte[] StateMagic = "FRSHDTIR"u8.ToArray();
    private readonly Dictionary<string, long> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Trainer, TaskKind Task), long> _towerSteps = [];

    public DenseTier(FeatureSchema schema)
    {
        Schema = schema;
        Model = new EsmmModel(FeatureLayout.From(schema), schema.Model);
        Optimizers = new DenseOptimizers(Model, schema.Model);
    }

    public FeatureSchema Schema { get; }

    public EsmmModel Model { get; }

    public DenseOptimizers Optimizers { get; }

    public long CtrVersion { get; private set; }

    public long CvrVersion { get; private set; }

    public long? BaseVersion { get; set; }

    public IReadOnlyDictionary<string, long> Steps => _steps;

    public long VersionOf(TaskKind task) => task == TaskKind.Ctr ? CtrVersion : CvrVersion;

    /// <summary>
    /// Whether a trainer's step was applied to a tower already (a retried push). Per tower: one step can push
    /// both (ESMM trains the CVR tower on impressions too).
    /// </summary>
    /// <remarks>After a restart only the trainer's last step overall is known (grain state keeps no more), and it stands for both towers.</remarks>
    public bool Applied(string trainer, TaskKind task, long step) => step <= _towerSteps.GetValueOrDefault((trainer, task));

    /// <summary>
    /// One step of a tower with gradients from a trainer, and the batch-norm buffers its forward pass left.
    /// With <paramref name="buffersBase"/> (the buffers that forward pass started from) the change is added to the
    /// tier's statistics, so with several trainers every batch counts; without it the buffers replace the tier's.
    /// </summary>
    /// <exception cref="InvalidDataException">The gradients or buffers do not fit the tower (checked before anything changes).</exception>
    public void Apply(TaskKind task, ReadOnlySpan<float> gradients, ReadOnlySpan<byte> buffers, double labelRate, string trainer, long step,
        ReadOnlySpan<byte> buffersBase = default)
    {
        var tower = Model.TowerOf(task);
        TowerCodec.CheckSizes(tower, gradients.Length, buffers.Length, buffersBase.IsEmpty ? null : buffersBase.Length);
        if (Optimizers.Of(task).Steps == 0)
        {
            tower.InitializeOutputBias(labelRate);
        }
        Optimizers.Of(task).Step(gradients);
        if (buffersBase.IsEmpty) TowerCodec.WriteBuffers(tower, buffers);
        else TowerCodec.AddBufferChanges(tower, buffersBase, buffers);
        if (task == TaskKind.Ctr) CtrVersion++;
        else CvrVersion++;
        if (step > _steps.GetValueOrDefault(trainer)) _steps[trainer] = step;
        if (step > _towerSteps.GetValueOrDefault((trainer, task))) _towerSteps[(trainer, task)] = step;
    }

    public (float[] Parameters, byte[] Buffers, long Version) Read(TaskKind task)
    {
        var tower = Model.TowerOf(task);
        return (TowerCodec.ReadParameters(tower), TowerCodec.ReadBuffers(tower), VersionOf(task));
    }

    public byte[] SerializeState()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(StateMagic);
            w.Write(CtrVersion);
            w.Write(CvrVersion);
            w.Write(BaseVersion ?? -1);
            w.Write(_steps.Count);
            foreach (var (k, v) in _steps)
            {
                w.Write(k);
                w.Write(v);
            }
        }
        DenseFile.Write(ms, Model, Optimizers);
        return ms.ToArray();
    }

    /// <summary>Puts back what <see cref="SerializeState"/> wrote (the dense grain's persisted state).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a whole dense state of this model; the message starts with "dense state".</exception>
    public void RestoreState(byte[] state)
    {
        try
        {
            Restore(state);
        }
        catch (Exception e) when (e is CheckpointException or IOException or FormatException)
        {
            throw new InvalidDataException(e.Message.StartsWith("dense state", StringComparison.Ordinal) ? e.Message : $"dense state: {e.Message}", e);
        }
    }

    private void Restore(byte[] state)
    {
        using var ms = new MemoryStream(state);
        using (var r = new BinaryReader(ms, Encoding.UTF8, leaveOpen: true))
        {
            if (!r.ReadBytes(StateMagic.Length).AsSpan().SequenceEqual(StateMagic)) throw new InvalidDataException("dense state: bad magic");
            CtrVersion = r.ReadInt64();
            CvrVersion = r.ReadInt64();
            var b = r.ReadInt64();
            BaseVersion = b < 0 ? null : b;
            _steps.Clear();
            _towerSteps.Clear();
            var n = r.ReadInt32();
            for (var i = 0; i < n; i++) _steps[r.ReadString()] = r.ReadInt64();
            foreach (var (trainer, step) in _steps)
            {
                _towerSteps[(trainer, TaskKind.Ctr)] = step;
                _towerSteps[(trainer, TaskKind.Cvr)] = step;
            }
        }
        DenseFile.Apply(DenseFile.Read(ms, "dense state"), Model, Optimizers, "dense state");
    }

    public async Task<ManifestFile> WriteCheckpointAsync(ICheckpointStore store, string model, long version, CancellationToken cancellationToken = default)
    {
        var f = await CheckpointWriter.WriteFileAsync(store, model, version, CheckpointFiles.Dense, "dense", s => DenseFile.Write(s, Model, Optimizers), cancellationToken);
        BaseVersion = version;
        return f with { Steps = new Dictionary<string, long>(_steps, StringComparer.Ordinal) };
    }

    /// <summary>Loads the dense file of a checkpoint (verified as it is read); the towers' versions move on so trainers pull it.</summary>
    public async Task<long> LoadCheckpointAsync(ICheckpointStore store, string model, long? version, CancellationToken cancellationToken = default)
    {
        var reader = await CheckpointReader.OpenAsync(store, model, version, cancellationToken, verify: false);
        var file = reader.Manifest.Files.FirstOrDefault(f => f.Kind == "dense")
            ?? throw new CheckpointException($"checkpoint {CheckpointManifest.VersionFolder(model, reader.Manifest.Version)} has no {CheckpointFiles.Dense}");
        var content = await reader.ReadVerifiedAsync(file, s => DenseFile.Read(s, reader.Describe(file)), cancellationToken);
        DenseFile.Apply(content, Model, Optimizers, reader.Describe(file));
        CtrVersion++;
        CvrVersion++;
        BaseVersion = reader.Manifest.Version;
        return reader.Manifest.Version;
    }

    public void Dispose() => Model.Dispose();
}
