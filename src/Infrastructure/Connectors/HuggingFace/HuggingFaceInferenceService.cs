using System.Globalization;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.HuggingFace;

/// <summary>Typed settings of a <c>hugging_face</c> endpoint.</summary>
public sealed record HuggingFaceSettings : EndpointSettings
{
    /// <summary>The Inference Endpoint's full URL (TEI's <c>/embed</c>, <c>/rerank</c>, or the OpenAI-compatible <c>/v1/chat/completions</c>).</summary>
    public required string Url { get; init; }

    /// <summary>The access token (secret).</summary>
    public required string ApiKey { get; init; }

    /// <summary>The model sent in chat requests (completion and chat_completion only); null sends none.</summary>
    public string? ModelId { get; init; }

    /// <summary>The embedding size found by the probe of a new text_embedding endpoint.</summary>
    public int? Dimensions { get; init; }

    /// <summary>The vector similarity (text_embedding).</summary>
    public string? Similarity { get; init; }

    /// <summary>The model's input limit, as the tenant states it.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>The outbound rate (<c>rate_limit.requests_per_minute</c>).</summary>
    public required int RequestsPerMinute { get; init; }

    /// <summary>The stored rerank <c>top_n</c>; null when not set.</summary>
    public int? TopN => ProviderJson.Int(TaskSettings["top_n"]);

    /// <summary>The stored rerank <c>return_documents</c>; null when not set.</summary>
    public bool? ReturnDocuments => TaskSettings["return_documents"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject { ["url"] = Url };
        if (ModelId is { } model)
        {
            json["model_id"] = model;
        }

        if (Similarity is { } similarity)
        {
            json["similarity"] = similarity;
        }

        if (Dimensions is { } dimensions)
        {
            json["dimensions"] = dimensions;
        }

        if (MaxInputTokens is { } max)
        {
            json["max_input_tokens"] = max;
        }

        json[RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute);
        json["api_key"] = ApiKey;
        return json;
    }
}

/// <summary>
/// The <c>hugging_face</c> service with the tenant's token, as Elasticsearch has it: text_embedding and sparse_embedding on
/// an Inference Endpoint's feature-extraction / TEI <c>/embed</c> URL (<c>{"inputs": [...]}</c>; dense answers as
/// <c>[[...]]</c> or <c>{"embeddings": [[...]]}</c>, sparse as one <c>{token: weight}</c> object per input), rerank on TEI's
/// <c>/rerank</c> (<c>query</c>, <c>texts</c>, <c>return_text</c>, <c>top_n</c>), completion and chat_completion on the
/// endpoint's OpenAI-compatible <c>/v1/chat/completions</c> (streamed). Every call goes through
/// <see cref="ProviderHttpClients"/> (the address guard applies to the tenant's <c>url</c>). Hugging Face reports no usage
/// for embeddings and rerank, so those are counted (about four characters a token). Thread-safe.
/// </summary>
public sealed class HuggingFaceInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "hugging_face";

    /// <summary>Elasticsearch's default outbound rate for every task type.</summary>
    public const int DefaultRequestsPerMinute = 3000;

    private static readonly string[] Similarities = ["cosine", "dot_product", "l2_norm"];

    private static readonly TaskType[] Tasks = [TaskType.TextEmbedding, TaskType.SparseEmbedding, TaskType.Rerank, TaskType.Completion, TaskType.ChatCompletion];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes => Tasks;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(["api_key"], StringComparer.Ordinal);

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Hugging Face",
        Tasks,
        [
            KeyValuePair.Create("url", new ServiceSettingField(
                "URL", "The URL of the Hugging Face Inference Endpoint: its feature-extraction or /embed URL for embeddings, /rerank for rerank, /v1/chat/completions for completion and chat_completion.",
                Required: true, Sensitive: false, Updatable: false, SettingFieldType.Text, null, Tasks)),
            KeyValuePair.Create("api_key", new ServiceSettingField(
                "API Key", "The Hugging Face access token.", Required: true, Sensitive: true, Updatable: true, SettingFieldType.Text, null, Tasks)),
            KeyValuePair.Create("model_id", new ServiceSettingField(
                "Model ID", "The model sent in chat requests, where the endpoint serves several.", Required: false, Sensitive: false, Updatable: false,
                SettingFieldType.Text, null, [TaskType.Completion, TaskType.ChatCompletion])),
            KeyValuePair.Create("similarity", new ServiceSettingField(
                "Similarity", "The similarity measure: cosine (the default), dot_product or l2_norm.", Required: false, Sensitive: false, Updatable: false,
                SettingFieldType.Text, "cosine", [TaskType.TextEmbedding])),
            KeyValuePair.Create("max_input_tokens", new ServiceSettingField(
                "Maximum Input Tokens", "Allows you to specify the maximum number of tokens per input.", Required: false, Sensitive: false, Updatable: false,
                SettingFieldType.Number, null, [TaskType.TextEmbedding, TaskType.SparseEmbedding])),
            RateLimitSetting.Field(Tasks, "Default: 3000 for every task type."),
        ]);

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        if (!Tasks.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{Name}] service does not support task type [{taskType.ToWireName()}]");
        }

        var map = new JsonSettings(serviceSettings, "service_settings");
        var url = map.RequiredString("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid url [{url}] received for field [url]. [url] must be an absolute http or https URL");
        }

        var apiKey = map.RequiredString("api_key");
        var generates = taskType is TaskType.Completion or TaskType.ChatCompletion;
        var modelId = generates ? map.OptionalString("model_id") : null;
        string? similarity = null;
        int? dimensions = null;
        if (taskType == TaskType.TextEmbedding)
        {
            similarity = map.OptionalString("similarity")?.ToLowerInvariant();
            if (similarity is not null && !Similarities.Contains(similarity))
            {
                throw InferenceApiException.BadRequest(
                    $"[service_settings] Invalid value [{similarity}] received. [similarity] must be one of [{string.Join(", ", Similarities)}]");
            }

            dimensions = map.OptionalInt("dimensions");
            if (dimensions is < 1)
            {
                throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{dimensions}]. [dimensions] must be a positive integer");
            }
        }

        int? maxInputTokens = taskType is TaskType.TextEmbedding or TaskType.SparseEmbedding ? map.OptionalInt("max_input_tokens") : null;
        if (maxInputTokens is < 1)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{maxInputTokens}]. [max_input_tokens] must be a positive integer");
        }

        var rate = RateLimitSetting.Read(map, DefaultRequestsPerMinute, Name);
        map.ThrowIfNotEmpty(Name);

        var tasks = new JsonSettings(taskSettings, "task_settings");
        var parsedTasks = new JsonObject();
        if (taskType == TaskType.Rerank)
        {
            if (tasks.OptionalInt("top_n") is { } topN)
            {
                parsedTasks["top_n"] = topN > 0 ? topN : throw InferenceApiException.BadRequest($"[task_settings] Invalid value [{topN}]. [top_n] must be a positive integer");
            }

            if (tasks.OptionalBool("return_documents") is { } returnDocuments)
            {
                parsedTasks["return_documents"] = returnDocuments;
            }
        }

        tasks.ThrowIfNotEmpty(Name);
        return new HuggingFaceSettings
        {
            TaskType = taskType,
            TaskSettings = parsedTasks,
            Url = url,
            ApiKey = apiKey,
            ModelId = modelId,
            Similarity = similarity,
            Dimensions = dimensions,
            MaxInputTokens = maxInputTokens,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>
    /// Calls the endpoint once, as Elasticsearch does on create: the token and URL are checked, and a text_embedding endpoint
    /// learns its dimensions (with <c>cosine</c> similarity unless one was given). A failing call is a 400 that keeps the
    /// provider's error; nothing is stored.
    /// </summary>
    public async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (HuggingFaceSettings)settings;
        using var http = clients.Create(CallOptions($"probe:{Name}:{inferenceId}", inferenceId, typed));
        var client = new HuggingFaceClient(inferenceId, typed, http);
        string[] probe = [OpenAiCompatibleService.ProbeInput];
        try
        {
            switch (typed.TaskType)
            {
                case TaskType.TextEmbedding:
                    var result = await client.GenerateAsync(probe, null, cancellationToken).ConfigureAwait(false);
                    var size = result.Embeddings[0].Vector.Length;
                    if (size == 0)
                    {
                        throw ProviderJson.Malformed(inferenceId, "the probe's embedding is empty");
                    }

                    if (typed.Dimensions is { } stated && stated != size)
                    {
                        throw InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                            $"The retrieved embeddings size [{size}] does not match the size specified in the settings [{stated}]. Please recreate the [{inferenceId}] configuration with the correct dimensions"));
                    }

                    return typed with { Dimensions = size, Similarity = typed.Similarity ?? "cosine" };
                case TaskType.SparseEmbedding:
                    await ((ISparseEmbeddingGenerator)client).GenerateAsync(probe, null, cancellationToken).ConfigureAwait(false);
                    return typed;
                case TaskType.Rerank:
                    await client.RerankAsync(OpenAiCompatibleService.ProbeInput, probe, null, cancellationToken).ConfigureAwait(false);
                    return typed;
                default:
                    await client.Chat.CompleteAsync([new ChatMessage(ChatRole.User, OpenAiCompatibleService.ProbeInput)], null, cancellationToken).ConfigureAwait(false);
                    return typed;
            }
        }
        catch (InferenceApiException ex) when (!ex.Reason.StartsWith("The retrieved embeddings size", StringComparison.Ordinal))
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (HuggingFaceSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var client = new HuggingFaceClient(inferenceId, typed, clients.Create(CallOptions($"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed)));
        return typed.TaskType switch
        {
            TaskType.TextEmbedding => new InferenceClient { TextEmbedding = client },
            TaskType.SparseEmbedding => new InferenceClient { SparseEmbedding = client },
            TaskType.Rerank => new InferenceClient { Rerank = client },
            TaskType.Completion => new InferenceClient { Completion = new OpenAiChatClient(client.Chat) },
            _ => new InferenceClient { ChatCompletion = new OpenAiChatClient(client.Chat) },
        };
    }

    private ProviderCallOptions CallOptions(string throttleKey, string inferenceId, HuggingFaceSettings settings) =>
        new(Name, throttleKey, settings.RequestsPerMinute, clients.Options.AttemptTimeout) { InferenceId = inferenceId };
}
