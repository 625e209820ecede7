namespace Freshet.Admin;

/// <summary>What a client (a process outside the cluster) may do through a grain interface or method.</summary>
public enum ClientAccess
{
    /// <summary>Not open to clients: only grains and silo code call it.</summary>
    None,

    /// <summary>Reads status; any client may.</summary>
    Read,

    /// <summary>Scores; any client may.</summary>
    Score,

    /// <summary>Changes deployments and jobs: on silos that take admin calls, with an admin certificate when TLS is on.</summary>
    Admin,

    /// <summary>Sends what training learns from: samples to a job, labels to a model's feedback loop; any client may, as it may score.</summary>
    Produce,
}
