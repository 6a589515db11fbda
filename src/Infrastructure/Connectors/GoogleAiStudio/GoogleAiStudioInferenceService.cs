using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.GoogleAiStudio;

/// <summary>
/// <c>googleaistudio</c>: text_embedding (<c>models/{model}:batchEmbedContents</c>) and completion
/// (<c>models/{model}:generateContent</c>, streamed with <c>streamGenerateContent?alt=sse</c>) on the Gemini API, with
/// <c>model_id</c>, <c>api_key</c>, <c>rate_limit</c> (360 a minute by default) and, for embeddings, <c>dimensions</c>,
/// <c>similarity</c> and <c>max_input_tokens</c>. As in Elasticsearch the key travels in the <c>key</c> query parameter;
/// logs and errors only ever show URLs without their query, and the key is redacted from provider messages. Thread-safe.
/// </summary>
public sealed class GoogleAiStudioInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "googleaistudio";

    /// <summary>The Gemini API.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://generativelanguage.googleapis.com");

    /// <summary>Elasticsearch's default rate.</summary>
    public const int DefaultRequestsPerMinute = 360;

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = [TaskType.TextEmbedding, TaskType.Completion];

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = BuildConfiguration();

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(["api_key"], StringComparer.Ordinal);

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType == TaskType.Completion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        ConnectorSettings.RequireTaskType(Name, SupportedTaskTypes, taskType);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var model = map.RequiredString("model_id");
        var apiKey = map.RequiredString("api_key");
        string? similarity = null;
        int? dimensions = null, maxInputTokens = null;
        var setByUser = false;
        if (taskType == TaskType.TextEmbedding)
        {
            similarity = ConnectorSettings.Similarity(map);
            dimensions = ConnectorSettings.PositiveInt(map, "dimensions");
            setByUser = map.OptionalBool("dimensions_set_by_user") ?? dimensions is not null;
            maxInputTokens = ConnectorSettings.PositiveInt(map, "max_input_tokens");
        }

        var rate = RateLimitSetting.Read(map, DefaultRequestsPerMinute, Name);
        map.ThrowIfNotEmpty(Name);
        new JsonSettings(taskSettings, "task_settings").ThrowIfNotEmpty(Name);
        return new GoogleAiStudioSettings
        {
            TaskType = taskType,
            ModelId = model,
            ApiKey = apiKey,
            Similarity = similarity,
            Dimensions = dimensions,
            DimensionsSetByUser = setByUser && dimensions is not null,
            MaxInputTokens = maxInputTokens,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>Calls Gemini once on create: the key is checked, and a text_embedding endpoint learns its dimensions.</summary>
    public Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (GoogleAiStudioSettings)settings;
        return ConnectorSettings.ProbeAsync<EndpointSettings>(async () =>
        {
            using var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"probe:{Name}:{inferenceId}", inferenceId, typed.RequestsPerMinute));
            var client = CreateWireClient(inferenceId, typed, http);
            if (typed.TaskType == TaskType.Completion)
            {
                await client.CompleteAsync(ConnectorSettings.ProbeInput, null, cancellationToken).ConfigureAwait(false);
                return typed;
            }

            var size = (await client.GenerateAsync([ConnectorSettings.ProbeInput], null, cancellationToken).ConfigureAwait(false)).Embeddings[0].Vector.Length;
            if (size == 0)
            {
                throw client.Call.Malformed("the probe's embedding is empty");
            }

            if (typed.DimensionsSetByUser && typed.Dimensions != size)
            {
                throw ConnectorSettings.DimensionsMismatch(size, typed.Dimensions!.Value, inferenceId);
            }

            return typed with { Dimensions = size, Similarity = typed.Similarity ?? "dot_product" };
        });
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (GoogleAiStudioSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed.RequestsPerMinute));
        var client = CreateWireClient(inferenceId, typed, http);
        return typed.TaskType == TaskType.Completion ? new InferenceClient { Completion = client } : new InferenceClient { TextEmbedding = client };
    }

    internal GoogleAiStudioClient CreateWireClient(string inferenceId, GoogleAiStudioSettings settings, HttpClient http) =>
        new(settings, ConnectorSettings.BaseUrl(clients, Name, DefaultBaseUrl),
            new ProviderJsonCall(http, inferenceId, [settings.ApiKey, Uri.EscapeDataString(settings.ApiKey)], []));

    private static ServiceConfiguration BuildConfiguration()
    {
        TaskType[] all = [TaskType.TextEmbedding, TaskType.Completion];
        TaskType[] embeddings = [TaskType.TextEmbedding];
        KeyValuePair<string, ServiceSettingField> Field(string key, string label, string description, bool required, bool sensitive, SettingFieldType type, JsonNode? defaultValue, TaskType[] taskTypes) =>
            KeyValuePair.Create(key, new ServiceSettingField(label, description, required, sensitive, sensitive, type, defaultValue, taskTypes));
        return new ServiceConfiguration(ServiceName, "Google AI Studio", all,
        [
            Field("api_key", "API Key", "The Google AI Studio API key; kept encrypted and never shown again.", true, true, SettingFieldType.Text, null, all),
            Field("model_id", "Model ID", "The name of the Gemini model to use.", true, false, SettingFieldType.Text, null, all),
            Field("dimensions", "Dimensions", "The number of dimensions the embeddings should have; found with a probe call when not set.", false, false, SettingFieldType.Number, null, embeddings),
            Field("similarity", "Similarity", "The similarity measure: cosine, dot_product (the default) or l2_norm.", false, false, SettingFieldType.Text, "dot_product", embeddings),
            Field("max_input_tokens", "Maximum Input Tokens", "Allows you to specify the maximum number of tokens per input.", false, false, SettingFieldType.Number, null, embeddings),
            RateLimitSetting.Field(all, string.Create(CultureInfo.InvariantCulture, $"Default: {DefaultRequestsPerMinute}.")),
        ]);
    }
}

/// <summary>Typed settings of a <c>googleaistudio</c> endpoint.</summary>
public sealed record GoogleAiStudioSettings : EndpointSettings
{
    /// <summary>The Gemini model.</summary>
    public required string ModelId { get; init; }

    /// <summary>The API key (secret).</summary>
    public required string ApiKey { get; init; }

    /// <summary>The vector similarity.</summary>
    public string? Similarity { get; init; }

    /// <summary>The embedding size: the tenant's, or what the probe found.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Whether the tenant set <see cref="Dimensions"/> (then requests ask for <c>outputDimensionality</c>).</summary>
    public bool DimensionsSetByUser { get; init; }

    /// <summary>The model's input limit, as the tenant states it.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>The outbound rate.</summary>
    public required int RequestsPerMinute { get; init; }

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject { ["model_id"] = ModelId };
        ConnectorSettings.AddIfPresent(json, "similarity", Similarity);
        if (Dimensions is { } dimensions)
        {
            json["dimensions"] = dimensions;
            json["dimensions_set_by_user"] = DimensionsSetByUser;
        }

        ConnectorSettings.AddIfPresent(json, "max_input_tokens", MaxInputTokens);
        json[RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute);
        json["api_key"] = ApiKey;
        return json;
    }
}

/// <summary>
/// Embeddings and completions of one <c>googleaistudio</c> endpoint. Gemini reports no usage for embeddings, so it is
/// counted; completions take <c>usageMetadata</c>. Thread-safe.
/// </summary>
internal sealed class GoogleAiStudioClient(GoogleAiStudioSettings settings, Uri baseUrl, ProviderJsonCall call) : IDenseEmbeddingGenerator, ITextCompletionClient
{
    /// <summary>The call helper.</summary>
    public ProviderJsonCall Call => call;

    /// <summary>The URL of a model action with the key in its query, as Elasticsearch sends it.</summary>
    public Uri ActionUri(string action, bool sse = false) => ConnectorSettings.Append(
        baseUrl, $"/v1/models/{Uri.EscapeDataString(settings.ModelId)}:{action}",
        (sse ? "alt=sse&" : string.Empty) + "key=" + Uri.EscapeDataString(settings.ApiKey));

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var model = $"models/{settings.ModelId}";
        var dimensions = settings.DimensionsSetByUser ? settings.Dimensions : null;
        var body = new GoogleBatchEmbedRequest([.. inputs.Select(i => new GoogleEmbedRequest(model, new GoogleContent(null, [new GooglePart(i)]), dimensions))]);
        var response = await call.PostAsync<GoogleBatchEmbedRequest, GoogleBatchEmbedResponse>(
            ActionUri("batchEmbedContents"), body, GoogleJson.Options, cancellationToken).ConfigureAwait(false);
        if (response.Embeddings is not { } embeddings || embeddings.Count != inputs.Count || embeddings.Any(e => e.Values is null))
        {
            throw call.Malformed($"expected {inputs.Count} embeddings");
        }

        return new DenseEmbeddingResult(
            [.. embeddings.Select(e => new DenseEmbedding(e.Values!, IsTruncated: false))],
            new UsageDetails(inputs.Sum(ConnectorSettings.EstimateTokens), 0));
    }

    /// <inheritdoc />
    public async Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var response = await call.PostAsync<GoogleGenerateRequest, GoogleGenerateResponse>(
            ActionUri("generateContent"), BuildRequest(prompt, options), GoogleJson.Options, cancellationToken).ConfigureAwait(false);
        var candidate = response.Candidates is { Count: > 0 } candidates ? candidates[0] : throw call.Malformed("no [candidates] in the answer");
        var text = TextOf(candidate);
        return new GenerationResponse(text, ParseFinish(candidate.FinishReason) ?? FinishReason.Stop, UsageOf(response.UsageMetadata) ?? Counted(prompt, text.Length));
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        call.MapStream(StreamCoreAsync(prompt, options, cancellationToken), cancellationToken);

    /// <summary>Gemini's finish reason as <see cref="FinishReason"/>; null when absent.</summary>
    public static FinishReason? ParseFinish(string? reason) => reason switch
    {
        null or "" or "FINISH_REASON_UNSPECIFIED" => null,
        "MAX_TOKENS" => FinishReason.Length,
        _ => FinishReason.Stop,
    };

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(string prompt, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var characters = 0;
        UsageDetails? reported = null;
        await foreach (var element in call.StreamAsync(ActionUri("streamGenerateContent", sse: true), BuildRequest(prompt, options), GoogleJson.Options, cancellationToken).ConfigureAwait(false))
        {
            var chunk = call.Parse<GoogleGenerateResponse>(element, GoogleJson.Options);
            reported = UsageOf(chunk?.UsageMetadata) ?? reported;
            var candidate = chunk?.Candidates is { Count: > 0 } candidates ? candidates[0] : null;
            if (candidate is null)
            {
                continue;
            }

            if (TextOf(candidate) is { Length: > 0 } text)
            {
                characters += text.Length;
                yield return new GenerationUpdate(text, null, reported ?? Counted(prompt, characters));
            }

            if (ParseFinish(candidate.FinishReason) is { } finish)
            {
                yield return new GenerationUpdate(string.Empty, finish, reported ?? Counted(prompt, characters));
                yield break;
            }
        }

        // Ended without a finish reason: a cut connection, not an answer.
        throw call.StreamEnded();
    }

    private static GoogleGenerateRequest BuildRequest(string prompt, GenerationOptions? options) => new(
        [new GoogleContent("user", [new GooglePart(prompt)])],
        new GoogleGenerationConfig
        {
            MaxOutputTokens = options?.MaxOutputTokens,
            Temperature = options?.Temperature,
            TopP = options?.TopP,
            Seed = options?.Seed,
            StopSequences = options?.StopSequences is { Count: > 0 } stop ? stop : null,
        });

    private static string TextOf(GoogleCandidate candidate) => string.Concat((candidate.Content?.Parts ?? []).Select(p => p.Text));

    private static UsageDetails? UsageOf(GoogleUsage? usage) =>
        usage is { PromptTokenCount: { } prompt } ? new UsageDetails(prompt, usage.CandidatesTokenCount ?? 0) : null;

    private static UsageDetails Counted(string prompt, int outputCharacters) =>
        new(OpenAiTarget.EstimateTokens(prompt) + 4, (outputCharacters + 3) / 4);
}
