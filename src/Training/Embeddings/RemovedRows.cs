namespace Freshet.Model.Embeddings;

/// <summary>Rows a delta removes from a table or rate (they were evicted on the trainer), sorted by id.</summary>
public sealed record RemovedRows(string Table, ulong[] Ids);
