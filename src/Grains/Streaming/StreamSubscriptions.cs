using Freshet.Grains.Training;
using Orleans.Streams;

namespace Freshet.Grains.Streaming;

/// <summary>How a grain takes up a stream: one subscription, resumed where it exists, retried through transient faults.</summary>
internal static class StreamSubscriptions
{
    /// <summary>
    /// Subscribes <paramref name="onNext"/> to <paramref name="stream"/>, resuming the subscription the grain already holds
    /// (a reactivated grain, or a try that registered before it failed) and dropping any extra, so deliveries are never
    /// doubled; <paramref name="fresh"/> drops what exists first; <paramref name="onError"/> hears what the stream delivers
    /// instead of an item (a delivery its cache no longer holds). Retried through the stream plumbing's transient failures.
    /// </summary>
    public static Task<StreamSubscriptionHandle<T>> ResumeOrSubscribeAsync<T>(IAsyncStream<T> stream, Func<T, StreamSequenceToken?, Task> onNext, bool fresh = false,
        Func<Exception, Task>? onError = null) =>
        Retry.CallAsync(async () =>
        {
            var handles = await stream.GetAllSubscriptionHandles();
            if (fresh)
            {
                foreach (var h in handles) await h.UnsubscribeAsync();
                handles = [];
            }
            var handle = onError is null
                ? handles.Count == 0 ? await stream.SubscribeAsync(onNext) : await handles[0].ResumeAsync(onNext)
                : handles.Count == 0 ? await stream.SubscribeAsync(onNext, onError) : await handles[0].ResumeAsync(onNext, onError);
            foreach (var extra in handles.Skip(1)) await extra.UnsubscribeAsync();
            return handle;
        }, CancellationToken.None);
}
