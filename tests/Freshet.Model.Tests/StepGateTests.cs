using Freshet.Model.Training;

namespace Freshet.Model.Tests;

public class StepGateTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_pause_during_a_step_takes_effect_when_the_step_ends()
    {
        var gate = new StepGate();
        gate.StartAt(41);
        await gate.EnterStepAsync(CancellationToken.None);

        var pause = gate.PauseAsync();
        Assert.False(pause.IsCompleted); // the running step finishes first
        gate.ExitStep();

        Assert.Equal(42, await pause.WaitAsync(Deadline));
        Assert.True(gate.IsPaused);
    }

    [Fact]
    public async Task A_resume_while_a_pause_waits_for_its_step_withdraws_the_pause_instead_of_leaving_it_waiting()
    {
        var gate = new StepGate();
        await gate.EnterStepAsync(CancellationToken.None);
        var pause = gate.PauseAsync(); // waits for the running step

        gate.Resume(); // e.g. a barrier that gave up on this trainer releases it
        var e = await Assert.ThrowsAsync<OperationCanceledException>(() => pause.WaitAsync(Deadline));
        Assert.Contains("withdrawn", e.Message);
        Assert.False(gate.IsPaused);

        gate.ExitStep(); // the step ends running, and the next pause is acknowledged at the next boundary
        Assert.Equal(1, await gate.PauseAsync().WaitAsync(Deadline));
        Assert.True(gate.IsPaused);
    }

    [Fact]
    public async Task A_paused_gate_starts_no_step_until_resumed()
    {
        var gate = new StepGate();
        Assert.Equal(0, await gate.PauseAsync().WaitAsync(Deadline)); // no step running: paused at once

        var enter = gate.EnterStepAsync(CancellationToken.None);
        await Task.Delay(20);
        Assert.False(enter.IsCompleted);
        gate.Resume();
        await enter.WaitAsync(Deadline);
        gate.ExitStep();
        Assert.Equal(1, gate.Steps);
    }

    [Fact]
    public async Task Two_pauses_in_one_step_are_both_acknowledged_and_a_wait_can_be_cancelled()
    {
        var gate = new StepGate();
        await gate.EnterStepAsync(CancellationToken.None);
        var first = gate.PauseAsync();
        var second = gate.PauseAsync();
        gate.ExitStep();
        Assert.Equal(1, await first.WaitAsync(Deadline));
        Assert.Equal(1, await second.WaitAsync(Deadline));

        using var cts = new CancellationTokenSource();
        var enter = gate.EnterStepAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => enter.WaitAsync(Deadline));
    }
}
