namespace Freshet.Feedback;

/// <summary>
/// Label streams, namespace <c>labels</c>: batches of labels from the labels hub (or silo code on the main stream
/// provider; an application reports labels with <c>FreshetClient.ReportAsync</c>, as clients write no stream), keyed
/// by where they came from (<c>{hub}/{partition key}</c>). A label router grain per stream (an implicit subscription)
/// sends each label to the joiner its prediction id names.
/// </summary>
public static class LabelStreams
{
    public const string Namespace = "labels";

    public static Orleans.Runtime.StreamId Id(string source) => Orleans.Runtime.StreamId.Create(Namespace, source);
}
