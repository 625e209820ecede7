namespace Freshet.Model.Serving;

/// <summary>One row's predictions: pCTR, pCVR and pCTCVR = pCTR x pCVR.</summary>
public readonly record struct ScoreResult(float Ctr, float Cvr, float Ctcvr);
