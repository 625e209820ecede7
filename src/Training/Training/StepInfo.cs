using Freshet.Model.Data;

namespace Freshet.Model.Training;

/// <summary>What one trainer step did.</summary>
public readonly record struct StepInfo(TaskKind Task, int Samples, bool Trained, float Loss, long EventTime, long TotalSamples);
