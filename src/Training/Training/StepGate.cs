namespace Freshet.Model.Training;

/// <summary>
/// The sync-send barrier on the trainer's side: a pause requested while a step runs takes effect
/// at the end of that step, and is acknowledged with the number of steps done; a paused trainer
/// starts no step until it is resumed.
/// </summary>
public sealed class StepGate
{
    private readonly object _lock = new();
    private TaskCompletionSource _open = NewOpen(true);
    private TaskCompletionSource<long>? _pauseAck;
    private bool _inStep;
    private bool _paused;
    private long _steps;

    public bool IsPaused
    {
        get { lock (_lock) return _paused; }
    }

    public long Steps
    {
        get { lock (_lock) return _steps; }
    }

    /// <summary>Sets the step count (a trainer that resumes numbering after a restart).</summary>
    public void StartAt(long steps)
    {
        lock (_lock) _steps = steps;
    }

    /// <summary>Waits while paused, then marks a step as running.</summary>
    public async Task EnterStepAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task open;
            lock (_lock)
            {
                if (!_paused)
                {
                    _inStep = true;
                    return;
                }
                open = _open.Task;
            }
            await open.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Marks the running step done; acknowledges a pending pause.</summary>
    public void ExitStep()
    {
        TaskCompletionSource<long>? ack;
        long steps;
        lock (_lock)
        {
            _inStep = false;
            steps = ++_steps;
            ack = _paused ? _pauseAck : null;
            if (ack is not null) _pauseAck = null;
        }
        ack?.TrySetResult(steps);
    }

    /// <summary>Pauses at the next step boundary; completes with the steps done when no step runs.</summary>
    public Task<long> PauseAsync()
    {
        lock (_lock)
        {
            if (!_paused)
            {
                _paused = true;
                _open = NewOpen(false);
            }
            if (!_inStep) return Task.FromResult(_steps);
            _pauseAck ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _pauseAck.Task;
        }
    }

    /// <summary>
    /// Lets steps run again. A pause still waiting for its step to end is withdrawn: it completes as cancelled
    /// rather than waiting for a boundary that will not hold (its caller gave up, or another released the gate),
    /// so the trainer grain whose turn awaits it is not left blocked.
    /// </summary>
    public void Resume()
    {
        TaskCompletionSource open;
        TaskCompletionSource<long>? withdrawn;
        lock (_lock)
        {
            _paused = false;
            open = _open;
            withdrawn = _pauseAck;
            _pauseAck = null;
        }
        open.TrySetResult();
        withdrawn?.TrySetException(new OperationCanceledException("the trainer was resumed before its running step ended; the pause was withdrawn"));
    }

    private static TaskCompletionSource NewOpen(bool open)
    {
        var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open) t.SetResult();
        return t;
    }
}
