using System.Text.RegularExpressions;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Inference.Models;

/// <summary>
/// The prefixes an embedding model expects before queries and documents (E5: "query: " / "passage: ").
/// Where they come from, first match wins:
/// <list type="number">
/// <item>the registration's <see cref="ModelRegistration.QueryPrefix"/> / <see cref="ModelRegistration.PassagePrefix"/>;</item>
/// <item>the folder's config_sentence_transformers.json prompts <c>query</c> and <c>passage</c> (or <c>document</c>);</item>
/// <item>the id convention: an id whose name is an E5 model (<c>e5-*</c>, <c>multilingual-e5-*</c>, e.g.
/// <c>intfloat/multilingual-e5-small</c>) gets E5's prefixes, as Elasticsearch does for its E5 models;</item>
/// <item>otherwise none.</item>
/// </list>
/// </summary>
/// <param name="Query">Prepended for <see cref="InputType.Search"/> (and unspecified, classification, clustering).</param>
/// <param name="Passage">Prepended for <see cref="InputType.Ingest"/>.</param>
public sealed partial record EmbeddingPrompts(string Query, string Passage)
{
    /// <summary>No prefixes.</summary>
    public static EmbeddingPrompts None { get; } = new(string.Empty, string.Empty);

    /// <summary>E5's prefixes.</summary>
    public static EmbeddingPrompts E5 { get; } = new("query: ", "passage: ");

    /// <summary>The prefix for an input type. E5 documents "query: " for symmetric tasks, so all but ingest get it.</summary>
    public string For(InputType inputType) => inputType == InputType.Ingest ? Passage : Query;

    /// <summary>Resolves the prompts of a model by the rules above.</summary>
    public static EmbeddingPrompts Resolve(string modelId, SentenceTransformersConfig? sentenceTransformers, ModelRegistration? registration)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var prompts = sentenceTransformers?.Prompts;
        var query = prompts?.GetValueOrDefault("query");
        var passage = prompts?.GetValueOrDefault("passage") ?? prompts?.GetValueOrDefault("document");
        var fallback = query is null && passage is null && IsE5(modelId) ? E5 : None;
        return new EmbeddingPrompts(
            registration?.QueryPrefix ?? query ?? fallback.Query,
            registration?.PassagePrefix ?? passage ?? fallback.Passage);
    }

    /// <summary>Whether the last segment of the id names an E5 model (e5-small-v2, multilingual-e5-large, .multilingual-e5-small).</summary>
    public static bool IsE5(string modelId) => E5Name().IsMatch(modelId);

    [GeneratedRegex(@"(^|/)\.?(multilingual-)?e5(-|_|$)[^/]*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex E5Name();
}
