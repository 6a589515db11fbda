using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>
/// The client of one <c>custom</c> endpoint: renders its templates, POSTs to the provider through the shared outbound
/// chain (guard, throttle, retries, timeout) and reads the answer with the endpoint's JSONPath parser. Custom providers
/// report no usage, so tokens are counted at about four characters each. Embedding inputs go out in batches of
/// <c>batch_size</c>. Thread-safe.
/// </summary>
internal sealed class CustomInferenceClient :
    IInferenceClient, IDenseEmbeddingGenerator, ISparseEmbeddingGenerator, IReranker, ITextCompletionClient
{
    private readonly HttpClient _http;
    private readonly CustomEndpointSettings _settings;
    private readonly string _inferenceId;
    private readonly string[] _secrets;

    public CustomInferenceClient(HttpClient http, CustomEndpointSettings settings, string inferenceId)
    {
        _http = http;
        _settings = settings;
        _inferenceId = inferenceId;
        _secrets = [.. settings.SecretParameters.Values];
    }

    public IDenseEmbeddingGenerator? TextEmbedding => _settings.TaskType == TaskType.TextEmbedding ? this : null;

    public ISparseEmbeddingGenerator? SparseEmbedding => _settings.TaskType == TaskType.SparseEmbedding ? this : null;

    public IReranker? Rerank => _settings.TaskType == TaskType.Rerank ? this : null;

    public ITextCompletionClient? Completion => _settings.TaskType == TaskType.Completion ? this : null;

    public IChatClient? ChatCompletion => null;

    async Task<DenseEmbeddingResult> IDenseEmbeddingGenerator.GenerateAsync(
        IReadOnlyList<string> inputs, EmbeddingOptions? options, CancellationToken cancellationToken)
    {
        var parser = (TextEmbeddingResponseParser)_settings.Response;
        var embeddings = new List<DenseEmbedding>(inputs.Count);
        foreach (var batch in inputs.Chunk(_settings.BatchSize))
        {
            var vectors = await CallAsync(
                new CustomRequestValues(batch, options?.InputType ?? InputType.Unspecified), parser.Parse, cancellationToken);
            RequireOnePerInput(vectors.Count, batch.Length, "embeddings");
            embeddings.AddRange(vectors.Select(v => new DenseEmbedding(v, IsTruncated: false)));
        }

        return new DenseEmbeddingResult(embeddings, new UsageDetails(CountTokens(inputs), 0));
    }

    async Task<SparseEmbeddingResult> ISparseEmbeddingGenerator.GenerateAsync(
        IReadOnlyList<string> inputs, EmbeddingOptions? options, CancellationToken cancellationToken)
    {
        var parser = (SparseEmbeddingResponseParser)_settings.Response;
        var embeddings = new List<SparseEmbedding>(inputs.Count);
        foreach (var batch in inputs.Chunk(_settings.BatchSize))
        {
            var parsed = await CallAsync(
                new CustomRequestValues(batch, options?.InputType ?? InputType.Unspecified), parser.Parse, cancellationToken);
            RequireOnePerInput(parsed.Count, batch.Length, "sparse embeddings");
            embeddings.AddRange(parsed);
        }

        return new SparseEmbeddingResult(embeddings, new UsageDetails(CountTokens(inputs), 0));
    }

    async Task<RerankResult> IReranker.RerankAsync(
        string query, IReadOnlyList<string> documents, RerankOptions? options, CancellationToken cancellationToken)
    {
        var parser = (RerankResponseParser)_settings.Response;
        var values = new CustomRequestValues(documents, Query: query, TopN: options?.TopN, ReturnDocuments: options?.ReturnDocuments);
        var ranked = await CallAsync(values, response => parser.Parse(response, documents.Count), cancellationToken);
        var sorted = ranked.OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index).Take(options?.TopN ?? int.MaxValue).ToList();
        return new RerankResult(sorted, new UsageDetails(CountTokens([query, .. documents]), 0));
    }

    async Task<GenerationResponse> ITextCompletionClient.CompleteAsync(string prompt, GenerationOptions? options, CancellationToken cancellationToken)
    {
        var parser = (CompletionResponseParser)_settings.Response;
        var text = await CallAsync(new CustomRequestValues([prompt]), parser.Parse, cancellationToken);
        return new GenerationResponse(text, FinishReason.Stop, new UsageDetails(CountTokens([prompt]), CountTokens([text])));
    }

    // The custom service does not stream (the surfaces answer 405 before coming here); the whole answer is one update.
    async IAsyncEnumerable<GenerationUpdate> ITextCompletionClient.CompleteStreamingAsync(
        string prompt, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var response = await ((ITextCompletionClient)this).CompleteAsync(prompt, options, cancellationToken);
        yield return new GenerationUpdate(response.Text, response.FinishReason, response.Usage);
    }

    /// <summary>About four characters a token, as the surfaces estimate (custom providers report no usage).</summary>
    internal static int CountTokens(IEnumerable<string> texts)
    {
        var characters = texts.Sum(static t => (long)t.Length);
        return (int)Math.Min(int.MaxValue, (characters + 3) / 4);
    }

    private async Task<T> CallAsync<T>(CustomRequestValues values, Func<JsonElement, T> parse, CancellationToken cancellationToken)
    {
        CustomHttpRequest rendered;
        try
        {
            rendered = CustomRequestBuilder.Build(_settings, values);
        }
        catch (CustomTemplateException e)
        {
            throw InferenceApiException.BadRequest(e.Message);
        }

        string body;
        try
        {
            using var request = ToHttpRequest(rendered);
            using var response = await _http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw await ProviderErrors.FromResponseAsync(response, _inferenceId, _secrets, cancellationToken);
            }

            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception e) when (e is not InferenceApiException && ProviderErrors.FromException(e, _inferenceId, _secrets) is { } mapped)
        {
            throw mapped;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return parse(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or CustomResponseException)
        {
            throw new InferenceApiException(502, InferenceApiException.StatusExceptionType,
                $"Failed to parse the response of the [{CustomInferenceService.ServiceName}] service for inference entity id [{_inferenceId}]; "
                + $"check that [response.json_parser] matches the provider's response. Error: {SecretRedaction.Redact(e.Message, _secrets)}", e);
        }
    }

    private static HttpRequestMessage ToHttpRequest(CustomHttpRequest rendered)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, rendered.Uri)
        {
            Content = new StringContent(rendered.Body, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in rendered.Headers)
        {
            if (string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                // A Content-Type header of the settings replaces the default, as in Elasticsearch.
                request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(value, out var mediaType)
                    ? mediaType
                    : throw InferenceApiException.BadRequest($"[service_settings] header [Content-Type] has an invalid value");
            }
            else if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    private void RequireOnePerInput(int results, int inputs, string what)
    {
        if (results != inputs)
        {
            throw new InferenceApiException(502, InferenceApiException.StatusExceptionType,
                $"The [{CustomInferenceService.ServiceName}] service returned [{results}] {what} for [{inputs}] inputs for inference entity id [{_inferenceId}]; "
                + "check that [response.json_parser] selects one entry per input");
        }
    }
}
