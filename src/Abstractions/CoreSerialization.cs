using Freshet.Model.Training;

// The core's vocabulary (task, tier, strategy) travels in the grain interfaces' records; the core carries
// Orleans' serialization attributes only, and its serializers are generated here.
[assembly: GenerateCodeForDeclaringAssembly(typeof(Strategy))]
