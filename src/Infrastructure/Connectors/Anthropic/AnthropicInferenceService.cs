using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Anthropic;

/// <summary>Typed settings of an <c>anthropic</c> endpoint.</summary>
public sealed record AnthropicSettings : EndpointSettings
{
    /// <summary>The model, e.g. <c>claude-sonnet-4-5</c>.</summary>
    public required string ModelId { get; init; }

    /// <summary>The API key (secret), sent as <c>x-api-key</c>.</summary>
    public required string ApiKey { get; init; }

    /// <summary>The outbound rate (<c>rate_limit.requests_per_minute</c>).</summary>
    public required int RequestsPerMinute { get; init; }

    /// <summary>The task settings' <c>max_tokens</c> (required, as in Elasticsearch).</summary>
    public int MaxTokens => ProviderJson.Int(TaskSettings["max_tokens"]) ?? 0;

    /// <summary>The task settings' <c>temperature</c>.</summary>
    public double? Temperature => Number(TaskSettings["temperature"]);

    /// <summary>The task settings' <c>top_p</c>.</summary>
    public double? TopP => Number(TaskSettings["top_p"]);

    /// <summary>The task settings' <c>top_k</c>.</summary>
    public int? TopK => ProviderJson.Int(TaskSettings["top_k"]);

    /// <inheritdoc />
    public override JsonObject ToServiceSettings() => new()
    {
        ["model_id"] = ModelId,
        [RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute),
        ["api_key"] = ApiKey,
    };

    private static double? Number(JsonNode? node) => ProviderJson.Number(node);
}

/// <summary>
/// The <c>anthropic</c> service with the tenant's key: completion and chat_completion on Anthropic's Messages API
/// (<c>x-api-key</c> and <c>anthropic-version</c> headers; system messages go in <c>system</c>), streamed in Anthropic's
/// event format, with the usage Anthropic reports (<c>message_start</c> and <c>message_delta</c>). Settings as
/// Elasticsearch has them: <c>model_id</c>, <c>api_key</c>, <c>rate_limit</c> (50 a minute by default) and the task
/// settings <c>max_tokens</c> (required), <c>temperature</c>, <c>top_p</c>, <c>top_k</c>. The operator may point the
/// service elsewhere with <c>Connectors:BaseUrls:anthropic</c> (a base such as <c>https://gateway/v1</c>). Thread-safe.
/// </summary>
public sealed class AnthropicInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "anthropic";

    /// <summary>The API version every call states.</summary>
    public const string ApiVersion = "2023-06-01";

    /// <summary>Elasticsearch's default outbound rate.</summary>
    public const int DefaultRequestsPerMinute = 50;

    /// <summary>Anthropic's API base.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.anthropic.com/v1");

    private static readonly TaskType[] Tasks = [TaskType.Completion, TaskType.ChatCompletion];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes => Tasks;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(["api_key"], StringComparer.Ordinal);

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Anthropic",
        Tasks,
        [
            KeyValuePair.Create("api_key", new ServiceSettingField(
                "API Key", "The Anthropic API key.", Required: true, Sensitive: true, Updatable: true, SettingFieldType.Text, null, Tasks)),
            KeyValuePair.Create("model_id", new ServiceSettingField(
                "Model ID", "The name of the model to use for the inference task.", Required: true, Sensitive: false, Updatable: false, SettingFieldType.Text, null, Tasks)),
            RateLimitSetting.Field(Tasks, "By default, the anthropic service sets the number of requests allowed per minute to 50."),
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
        var model = map.RequiredString("model_id");
        var apiKey = map.RequiredString("api_key");
        var rate = RateLimitSetting.Read(map, DefaultRequestsPerMinute, Name);
        map.ThrowIfNotEmpty(Name);

        // temperature and top_p are any numbers (Anthropic checks their ranges, as Elasticsearch leaves it to); the reader
        // takes the rest, so unknown keys are refused by name.
        var rest = taskSettings?.DeepClone().AsObject() ?? [];
        rest.Remove("temperature");
        rest.Remove("top_p");
        var tasks = new JsonSettings(rest, "task_settings");
        var maxTokens = tasks.OptionalInt("max_tokens") ?? throw InferenceApiException.MissingSetting("max_tokens", "task_settings");
        if (maxTokens < 1)
        {
            throw InferenceApiException.BadRequest($"[task_settings] Invalid value [{maxTokens}]. [max_tokens] must be a positive integer");
        }

        var parsed = new JsonObject { ["max_tokens"] = maxTokens };
        foreach (var key in new[] { "temperature", "top_p" })
        {
            if (taskSettings?[key] is { } value)
            {
                parsed[key] = ProviderJson.Number(value) is { } number
                    ? number
                    : throw InferenceApiException.BadRequest($"[task_settings] Invalid value [{value.ToJsonString()}]. [{key}] must be a number");
            }
        }

        if (tasks.OptionalInt("top_k") is { } topK)
        {
            parsed["top_k"] = topK;
        }

        tasks.ThrowIfNotEmpty(Name);
        return new AnthropicSettings
        {
            TaskType = taskType,
            TaskSettings = parsed,
            ModelId = model,
            ApiKey = apiKey,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>
    /// Sends one short message, as Elasticsearch validates a new endpoint: the key and the model are checked; a failing
    /// call is a 400 that keeps Anthropic's error, and nothing is stored.
    /// </summary>
    public async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (AnthropicSettings)settings;
        using var http = clients.Create(CallOptions($"probe:{Name}:{inferenceId}", inferenceId, typed));
        try
        {
            await new AnthropicClient(inferenceId, typed, MessagesUri(), http)
                .GetResponseAsync([new ChatMessage(ChatRole.User, OpenAiCompatibleService.ProbeInput)], new GenerationOptions { MaxOutputTokens = 1 }, cancellationToken)
                .ConfigureAwait(false);
            return typed;
        }
        catch (InferenceApiException ex)
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (AnthropicSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var client = new AnthropicClient(inferenceId, typed, MessagesUri(), clients.Create(CallOptions($"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed)));
        return typed.TaskType == TaskType.Completion ? new InferenceClient { Completion = client } : new InferenceClient { ChatCompletion = client };
    }

    /// <summary>The Messages API URL: the operator's base URL of the service, or Anthropic's.</summary>
    internal Uri MessagesUri()
    {
        var baseUrl = clients.Options.BaseUrls.TryGetValue(Name, out var configured) ? configured : DefaultBaseUrl;
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + "/messages";
        return builder.Uri;
    }

    private ProviderCallOptions CallOptions(string throttleKey, string inferenceId, AnthropicSettings settings) =>
        new(Name, throttleKey, settings.RequestsPerMinute, clients.Options.AttemptTimeout) { InferenceId = inferenceId };
}
