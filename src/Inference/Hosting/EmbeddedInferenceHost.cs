using System.Collections.Concurrent;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Generation;
using WebConsole.Inference.Generation.Templates;
using WebConsole.Inference.Models;
using WebConsole.Inference.Pipelines;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Hosting;

/// <summary>
/// The embedded host's front door: for a model and deployment settings it answers an implementation of the task's
/// interface that tokenizes on the caller's thread (so token counts are known before admission), queues the work on the
/// deployment (dynamic batching for encoders, one sequence per allocation for decoders) and returns the results.
/// Several endpoints with the same <c>deployment_id</c> share one deployment. Thread-safe.
/// </summary>
public sealed class EmbeddedInferenceHost(ModelRegistry registry, OnnxSessionFactory sessions, DeploymentManager deployments)
{
    // Model files and tokenizers are loaded once per model and shared by all its allocations (tokenizers are thread-safe).
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _models = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The deployments of this host, for statistics and the portal.</summary>
    public DeploymentManager Deployments => deployments;

    /// <summary>A text_embedding model behind the deployment <paramref name="settings"/> names.</summary>
    public IDenseEmbeddingGenerator GetTextEmbedding(DeploymentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = Load(settings.ModelId);
        var embedding = TextEmbeddingSettings.For(model.Folder, model.Tokenizer);
        var deployment = deployments.GetOrAddBatching<TokenizedText, DenseEmbedding>(
            settings,
            _ => ValueTask.FromResult<IBatchWorker<TokenizedText, DenseEmbedding>>(new PipelineWorker<TextEmbeddingPipeline, DenseEmbedding>(
                EncoderPipelines.CreateTextEmbedding(model.Folder, sessions, settings.ThreadsPerAllocation, model.Tokenizer),
                static (pipeline, batch, token) => pipeline.RunBatch(batch, token))),
            static text => text.Length);
        return new DeployedTextEmbedding(deployment, model.Tokenizer, embedding);
    }

    /// <summary>A sparse_embedding (SPLADE-style) model behind the deployment <paramref name="settings"/> names.</summary>
    public ISparseEmbeddingGenerator GetSparseEmbedding(DeploymentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = Load(settings.ModelId);
        var deployment = deployments.GetOrAddBatching<TokenizedText, SparseEmbedding>(
            settings,
            _ => ValueTask.FromResult<IBatchWorker<TokenizedText, SparseEmbedding>>(new PipelineWorker<SparseEmbeddingPipeline, SparseEmbedding>(
                EncoderPipelines.CreateSparseEmbedding(model.Folder, sessions, settings.ThreadsPerAllocation, model.Tokenizer),
                static (pipeline, batch, token) => pipeline.RunBatch(batch, token))),
            static text => text.Length);
        return new DeployedSparseEmbedding(deployment, model.Tokenizer, model.Folder.MaxInputLength(model.Tokenizer));
    }

    /// <summary>A rerank (cross-encoder) model behind the deployment <paramref name="settings"/> names.</summary>
    public IReranker GetReranker(DeploymentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = Load(settings.ModelId);
        var deployment = deployments.GetOrAddBatching<TokenizedText, float>(
            settings,
            _ => ValueTask.FromResult<IBatchWorker<TokenizedText, float>>(new PipelineWorker<RerankPipeline, float>(
                EncoderPipelines.CreateRerank(model.Folder, sessions, settings.ThreadsPerAllocation, model.Tokenizer),
                static (pipeline, batch, token) => pipeline.RunBatch(batch, token))),
            static text => text.Length);
        return new DeployedReranker(deployment, model.Tokenizer, model.Folder.MaxInputLength(model.Tokenizer));
    }

    /// <summary>A decoder model for chat_completion and completion behind the deployment <paramref name="settings"/> names.</summary>
    public DeployedGenerator GetGenerator(DeploymentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var model = Load(settings.ModelId);
        var config = DecoderModelConfig.FromFolder(model.Folder.Path);
        var template = ChatTemplate.FromFolder(model.Folder.Path);
        var deployment = deployments.GetOrAddExclusive(
            settings,
            _ =>
            {
                var session = sessions.Create(model.Folder, settings.ThreadsPerAllocation);
                try
                {
                    return ValueTask.FromResult(new DecoderTextGenerator(new DecoderSession(session, config), model.Tokenizer, config, template));
                }
                catch
                {
                    session.Dispose();
                    throw;
                }
            });
        return new DeployedGenerator(deployment, model.Tokenizer, template);
    }

    private LoadedModel Load(string modelId)
    {
        var lazy = _models.GetOrAdd(modelId, id => new Lazy<LoadedModel>(() =>
        {
            var folder = registry.Get(id);
            return new LoadedModel(folder, folder.LoadTokenizer());
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed load (files missing, download not finished) must not stick: the next request tries again.
            _models.TryRemove(new KeyValuePair<string, Lazy<LoadedModel>>(modelId, lazy));
            throw;
        }
    }

    private sealed record LoadedModel(ModelFolder Folder, ITokenizer Tokenizer);

    private sealed class PipelineWorker<TPipeline, TResult>(
        TPipeline pipeline,
        Func<TPipeline, IReadOnlyList<TokenizedText>, CancellationToken, IReadOnlyList<TResult>> run)
        : IBatchWorker<TokenizedText, TResult>, IDisposable
        where TPipeline : IDisposable
    {
        public ValueTask<IReadOnlyList<TResult>> RunBatchAsync(IReadOnlyList<TokenizedText> batch, CancellationToken cancellationToken) =>
            ValueTask.FromResult(run(pipeline, batch, cancellationToken));

        public void Dispose() => pipeline.Dispose();
    }

    private sealed class DeployedTextEmbedding(
        BatchingDeployment<TokenizedText, DenseEmbedding> deployment, ITokenizer tokenizer, TextEmbeddingSettings settings)
        : IDenseEmbeddingGenerator, IEmbeddingTokenCounter
    {
        // Counted as GenerateAsync tokenizes, truncation allowed: a request refused for length fails when it runs.
        public long CountInputTokens(IReadOnlyList<string> inputs, InputType inputType) =>
            inputs.Sum(text => (long)TextEmbeddingPipeline.Tokenize(tokenizer, settings, text, inputType, allowTruncation: true).Length);

        public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(inputs);
            options ??= new EmbeddingOptions();
            var tokenized = inputs.Select(text => TextEmbeddingPipeline.Tokenize(tokenizer, settings, text, options.InputType, options.AllowTruncation)).ToArray();
            var embeddings = await deployment.InferAsync(tokenized, cancellationToken);
            return new DenseEmbeddingResult(embeddings, new UsageDetails(tokenized.Sum(t => t.Length), 0));
        }
    }

    private sealed class DeployedSparseEmbedding(
        BatchingDeployment<TokenizedText, SparseEmbedding> deployment, ITokenizer tokenizer, int maxLength)
        : ISparseEmbeddingGenerator, IEmbeddingTokenCounter
    {
        public long CountInputTokens(IReadOnlyList<string> inputs, InputType inputType) =>
            inputs.Sum(text => (long)SparseEmbeddingPipeline.Tokenize(tokenizer, maxLength, text, allowTruncation: true).Length);

        public async Task<SparseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(inputs);
            var allowTruncation = options?.AllowTruncation ?? true;
            var tokenized = inputs.Select(text => SparseEmbeddingPipeline.Tokenize(tokenizer, maxLength, text, allowTruncation)).ToArray();
            var embeddings = await deployment.InferAsync(tokenized, cancellationToken);
            return new SparseEmbeddingResult(embeddings, new UsageDetails(tokenized.Sum(t => t.Length), 0));
        }
    }

    private sealed class DeployedReranker(BatchingDeployment<TokenizedText, float> deployment, ITokenizer tokenizer, int maxLength)
        : IReranker, IRerankTokenCounter
    {
        public long CountInputTokens(string query, IReadOnlyList<string> documents) =>
            documents.Sum(document => (long)RerankPipeline.TokenizePair(tokenizer, maxLength, query, document).Length);

        public async Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(documents);
            var pairs = documents.Select(document => RerankPipeline.TokenizePair(tokenizer, maxLength, query, document)).ToArray();
            var scores = await deployment.InferAsync(pairs, cancellationToken);
            return RerankPipeline.Rank(scores, options, new UsageDetails(pairs.Sum(p => p.Length), 0));
        }
    }
}

/// <summary>
/// A decoder deployment as a chat and completion client: each request holds one allocation for its whole generation,
/// and cancelling frees it at once.
/// </summary>
public sealed class DeployedGenerator : IChatClient, ITextCompletionClient, IPromptTokenCounter
{
    private readonly ExclusiveDeployment<DecoderTextGenerator> _deployment;
    private readonly ITokenizer _tokenizer;
    private readonly ChatTemplate? _template;

    internal DeployedGenerator(ExclusiveDeployment<DecoderTextGenerator> deployment, ITokenizer tokenizer, ChatTemplate? template)
    {
        _deployment = deployment;
        _tokenizer = tokenizer;
        _template = template;
    }

    /// <inheritdoc />
    public Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        DecoderTextGenerator.CollectAsync(Generate(DecoderTextGenerator.EncodeChat(_template, _tokenizer, messages), options, cancellationToken));

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generate(DecoderTextGenerator.EncodeChat(_template, _tokenizer, messages), options, cancellationToken);

    /// <inheritdoc />
    public Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        DecoderTextGenerator.CollectAsync(Generate(_tokenizer.Encode(prompt).Ids, options, cancellationToken));

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generate(_tokenizer.Encode(prompt).Ids, options, cancellationToken);

    /// <inheritdoc />
    public long CountPromptTokens(IReadOnlyList<ChatMessage> messages) => DecoderTextGenerator.EncodeChat(_template, _tokenizer, messages).Length;

    /// <inheritdoc />
    public long CountPromptTokens(string prompt) => _tokenizer.Encode(prompt).Length;

    // The prompt is encoded once, here: its size admits it to the queue and the worker generates from the same ids.
    private IAsyncEnumerable<GenerationUpdate> Generate(int[] promptIds, GenerationOptions? options, CancellationToken cancellationToken) =>
        _deployment.StreamAsync((worker, token) => worker.GenerateAsync(promptIds, options, token), promptIds.Length, cancellationToken);
}
