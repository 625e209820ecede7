namespace Freshet.Model.Schema;

/// <summary>Explicit feature interactions fed to each task's tower (see <see cref="ModelSpec.Interactions"/>).</summary>
public enum Interactions
{
    /// <summary>None: the MLP learns interactions from the concatenated embeddings alone.</summary>
    None,

    /// <summary>
    /// Pairwise dot products of the field embeddings (DLRM's interaction, FM's second-order term): every pair of id and
    /// bag fields of the most common embedding width, fed to the tower beside the embeddings themselves.
    /// </summary>
    Dot,
}
