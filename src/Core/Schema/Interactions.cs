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

    /// <summary>
    /// DCN-v2's cross network (Wang et al., WWW 2021): <see cref="ModelSpec.CrossLayers"/> layers
    /// x(l+1) = x0 * (W x(l) + b) + x(l) over the tower's input, full rank or of rank <see cref="ModelSpec.CrossRank"/>;
    /// the MLP and the wide term read the last layer's output.
    /// </summary>
    Cross,

    /// <summary>Both: the pairwise dot products join the input, and the cross network runs over the whole.</summary>
    DotCross,
}
