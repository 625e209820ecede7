namespace Freshet.Model.Schema;

/// <summary>Where a field sits in the model input: its table (embedding fields) and its column offset.</summary>
public sealed record FieldSlot(FieldSpec Field, int TableIndex, int Offset, int Width);
