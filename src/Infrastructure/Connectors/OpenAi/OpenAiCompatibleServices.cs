using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// <c>openai</c>: text_embedding, completion and chat_completion on OpenAI (or a gateway at <c>url</c>), with
/// <c>model_id</c>, <c>api_key</c>, <c>organization_id</c>, <c>dimensions</c>, <c>similarity</c> and <c>rate_limit</c>
/// (3,000 embedding / 500 completion requests a minute by default); task settings <c>user</c>.
/// </summary>
public sealed class OpenAiInferenceService(ProviderHttpClients clients) : OpenAiCompatibleService(Definition, clients)
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "openai";

    /// <summary>The profile of the service.</summary>
    public static OpenAiCompatibleProfile Definition { get; } = new()
    {
        Service = ServiceName,
        DisplayName = "OpenAI",
        TaskTypes = [TaskType.TextEmbedding, TaskType.Completion, TaskType.ChatCompletion],
        HasUrl = true,
        HasOrganization = true,
        HasDimensions = true,
        HasUserTaskSetting = true,
        DefaultRateLimits = new Dictionary<TaskType, int> { [TaskType.TextEmbedding] = 3000, [TaskType.Completion] = 500, [TaskType.ChatCompletion] = 500 },
        DefaultBaseUrl = new Uri("https://api.openai.com/v1"),
        UsesMaxCompletionTokens = true,
        UsesOfficialClient = true,
    };
}

/// <summary>
/// <c>azureopenai</c>: text_embedding, completion and chat_completion on an Azure OpenAI deployment
/// (<c>https://{resource_name}.openai.azure.com/openai/deployments/{deployment_id}/...?api-version={api_version}</c>),
/// authenticated with <c>api_key</c> or an <c>entra_id</c> token; 1,440 embedding / 120 completion requests a minute by
/// default. The operator may point it elsewhere with <c>Connectors:AzureOpenAi:BaseUrl</c>.
/// </summary>
public sealed class AzureOpenAiInferenceService(ProviderHttpClients clients) : OpenAiCompatibleService(Definition, clients)
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "azureopenai";

    /// <summary>The profile of the service.</summary>
    public static OpenAiCompatibleProfile Definition { get; } = new()
    {
        Service = ServiceName,
        DisplayName = "Azure OpenAI",
        TaskTypes = [TaskType.TextEmbedding, TaskType.Completion, TaskType.ChatCompletion],
        HasDimensions = true,
        HasUserTaskSetting = true,
        DefaultRateLimits = new Dictionary<TaskType, int> { [TaskType.TextEmbedding] = 1440, [TaskType.Completion] = 120, [TaskType.ChatCompletion] = 120 },
        UsesMaxCompletionTokens = true,
        UsesOfficialClient = true,
        IsAzure = true,
    };
}

/// <summary>
/// <c>mistral</c>: text_embedding, completion and chat_completion on La Plateforme (<c>https://api.mistral.ai/v1</c>),
/// with <c>model</c>, <c>api_key</c>, <c>max_input_tokens</c> and <c>rate_limit</c> (240 a minute by default).
/// </summary>
public sealed class MistralInferenceService(ProviderHttpClients clients) : OpenAiCompatibleService(Definition, clients)
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "mistral";

    /// <summary>The profile of the service.</summary>
    public static OpenAiCompatibleProfile Definition { get; } = new()
    {
        Service = ServiceName,
        DisplayName = "Mistral",
        TaskTypes = [TaskType.TextEmbedding, TaskType.Completion, TaskType.ChatCompletion],
        ModelKey = "model",
        DefaultRateLimits = new Dictionary<TaskType, int> { [TaskType.TextEmbedding] = 240, [TaskType.Completion] = 240, [TaskType.ChatCompletion] = 240 },
        DefaultBaseUrl = new Uri("https://api.mistral.ai/v1"),
        // Mistral's API rejects fields it does not know; its last stream chunk carries the usage unasked.
        RequestsStreamUsage = false,
    };
}

/// <summary>
/// <c>groq</c>: completion and chat_completion on GroqCloud (<c>https://api.groq.com/openai/v1</c>), with <c>model_id</c>,
/// <c>api_key</c> and <c>rate_limit</c> (30 a minute by default, Groq's lowest model limit).
/// </summary>
public sealed class GroqInferenceService(ProviderHttpClients clients) : OpenAiCompatibleService(Definition, clients)
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "groq";

    /// <summary>The profile of the service.</summary>
    public static OpenAiCompatibleProfile Definition { get; } = new()
    {
        Service = ServiceName,
        DisplayName = "Groq",
        TaskTypes = [TaskType.Completion, TaskType.ChatCompletion],
        DefaultRateLimits = new Dictionary<TaskType, int> { [TaskType.Completion] = 30, [TaskType.ChatCompletion] = 30 },
        DefaultBaseUrl = new Uri("https://api.groq.com/openai/v1"),
        UsesMaxCompletionTokens = true,
    };
}

/// <summary>
/// <c>deepseek</c>: completion and chat_completion on DeepSeek (<c>https://api.deepseek.com</c>, or <c>url</c>), with
/// <c>model_id</c> and <c>api_key</c>; unthrottled, as in Elasticsearch.
/// </summary>
public sealed class DeepSeekInferenceService(ProviderHttpClients clients) : OpenAiCompatibleService(Definition, clients)
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "deepseek";

    /// <summary>The profile of the service.</summary>
    public static OpenAiCompatibleProfile Definition { get; } = new()
    {
        Service = ServiceName,
        DisplayName = "DeepSeek",
        TaskTypes = [TaskType.Completion, TaskType.ChatCompletion],
        HasUrl = true,
        DefaultBaseUrl = new Uri("https://api.deepseek.com"),
    };
}
