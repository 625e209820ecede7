using Microsoft.Extensions.Logging;

namespace Freshet.Grains.Serving;

/// <summary>
/// Once the silo is active in the cluster, loads the replicas its <see cref="ServingRegistry"/> will
/// serve (in the background: the silo's start is not held up), so readiness can wait for them.
/// </summary>
public sealed partial class ServingWarmUp(ServingRegistry registry, ILogger<ServingWarmUp> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ServingWarmUp), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _running = Task.Run(async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await registry.WarmUpAsync(TimeSpan.FromSeconds(5), _stopping.Token);
            if (!registry.Warm) return;
            foreach (var (model, error) in registry.WarmUpErrors) LogModelFailed(logger, model, error);
            LogWarm(logger, registry.SiloName, clock.ElapsedMilliseconds);
        });
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _running.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} loaded its serving replicas in {Ms} ms and is ready")]
    private static partial void LogWarm(ILogger logger, string silo, long ms);

    [LoggerMessage(Level = LogLevel.Error, Message = "The replica of model {Model} could not be loaded at start: {Error}")]
    private static partial void LogModelFailed(ILogger logger, string model, string error);
}
