namespace Freshet.Grains.Jobs;

/// <summary>The step of a delivery (<see cref="PublishPlan.DeliverAsync"/>) that failed.</summary>
public enum DeliveryStage
{
    /// <summary>Retaining the delta beside its base.</summary>
    Retain,

    /// <summary>Recording it in the job's state.</summary>
    Record,

    /// <summary>Sending it on the weights stream.</summary>
    Send,
}
