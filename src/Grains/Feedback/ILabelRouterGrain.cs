using Freshet.Feedback;
using Freshet.Grains.Streaming;
using Freshet.Model.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Freshet.Grains.Feedback;

/// <summary>The label router: no calls of its own; it lives on its stream.</summary>
[Alias("Freshet.Feedback.ILabelRouterGrain")]
public interface ILabelRouterGrain : IGrainWithStringKey;
