using System.Globalization;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// An inference service over an OpenAI-compatible provider with the tenant's credentials: settings parsed as
/// Elasticsearch parses them for the service, a probe call on create (credentials checked; a text_embedding model's
/// dimensions found), and clients whose calls go through <see cref="ProviderHttpClients"/> (guard, throttle at the
/// endpoint's <c>rate_limit</c>, retries, timeouts). Thread-safe.
/// </summary>
public abstract class OpenAiCompatibleService : IInferenceService
{
    /// <summary>The stored flag that tells a tenant's <c>dimensions</c> from a probed one.</summary>
    public const string DimensionsSetByUserKey = "dimensions_set_by_user";

    /// <summary>The input of the probe call, as Elasticsearch sends it.</summary>
    public const string ProbeInput = "how big";

    private static readonly string[] Similarities = ["cosine", "dot_product", "l2_norm"];

    private readonly ProviderHttpClients _clients;

    /// <summary>Creates the service of <paramref name="profile"/>.</summary>
    protected OpenAiCompatibleService(OpenAiCompatibleProfile profile, ProviderHttpClients clients)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Profile = profile;
        _clients = clients;
        SecretFields = profile.IsAzure
            ? new HashSet<string>(["api_key", "entra_id"], StringComparer.Ordinal)
            : new HashSet<string>(["api_key"], StringComparer.Ordinal);
        Configuration = BuildConfiguration(profile);
    }

    /// <summary>The service's profile.</summary>
    public OpenAiCompatibleProfile Profile { get; }

    /// <inheritdoc />
    public string Name => Profile.Service;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes => Profile.TaskTypes;

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; }

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; }

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        if (!Profile.TaskTypes.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{Name}] service does not support task type [{taskType.ToWireName()}]");
        }

        var map = new JsonSettings(serviceSettings, "service_settings");
        string? model = null, resource = null, deployment = null, version = null, apiKey, entraId = null;
        if (Profile.IsAzure)
        {
            resource = map.RequiredString("resource_name");
            deployment = map.RequiredString("deployment_id");
            version = map.RequiredString("api_version");
            apiKey = map.OptionalString("api_key");
            entraId = map.OptionalString("entra_id");
            if (apiKey is null == entraId is null)
            {
                throw InferenceApiException.BadRequest(apiKey is null
                    ? "[secret_settings] must have either the [api_key] or the [entra_id] key"
                    : "[secret_settings] must have only one of the [api_key] or the [entra_id] key");
            }
        }
        else
        {
            model = map.RequiredString(Profile.ModelKey);
            apiKey = map.RequiredString("api_key");
        }

        var url = Profile.HasUrl ? map.OptionalString("url") : null;
        if (url is not null && !IsHttpUrl(url))
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid url [{url}] received for field [url]. [url] must be an absolute http or https URL");
        }

        var organization = Profile.HasOrganization ? map.OptionalString("organization_id") : null;
        int? dimensions = null;
        var dimensionsSetByUser = false;
        string? similarity = null;
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

            // Stored endpoints carry the flag; on create, dimensions given are the tenant's.
            dimensionsSetByUser = map.OptionalBool(DimensionsSetByUserKey) ?? dimensions is not null;
            if (dimensionsSetByUser && dimensions is not null && !Profile.HasDimensions)
            {
                throw InferenceApiException.BadRequest($"[service_settings] [dimensions] cannot be set for the [{Name}] service; it is found when the endpoint is created");
            }
        }

        var maxInputTokens = map.OptionalInt("max_input_tokens");
        if (maxInputTokens is < 1)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{maxInputTokens}]. [max_input_tokens] must be a positive integer");
        }

        int? rate = Profile.DefaultRateLimits is { } defaults ? RateLimitSetting.Read(map, defaults[taskType], Name) : null;
        map.ThrowIfNotEmpty(Name);

        var tasks = new JsonSettings(taskSettings, "task_settings");
        var parsedTasks = new JsonObject();
        if (Profile.HasUserTaskSetting && tasks.OptionalString("user") is { } user)
        {
            parsedTasks["user"] = user;
        }

        tasks.ThrowIfNotEmpty(Name);
        return new OpenAiCompatibleSettings
        {
            TaskType = taskType,
            TaskSettings = parsedTasks,
            Profile = Profile,
            ModelId = model,
            ApiKey = apiKey,
            EntraId = entraId,
            Url = url,
            OrganizationId = organization,
            ResourceName = resource,
            DeploymentId = deployment,
            ApiVersion = version,
            Dimensions = dimensions,
            DimensionsSetByUser = dimensionsSetByUser && dimensions is not null,
            Similarity = similarity,
            MaxInputTokens = maxInputTokens,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>
    /// Calls the provider once, as Elasticsearch does on create: the credentials are checked, and a text_embedding
    /// endpoint learns its dimensions (a tenant's <c>dimensions</c> must match) and gets <c>dot_product</c> similarity
    /// unless one was given. A failing call is a 400 that keeps the provider's error; nothing is stored.
    /// </summary>
    public async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (OpenAiCompatibleSettings)settings;
        var target = BuildTarget(inferenceId, typed);
        var http = _clients.Create(CallOptions($"probe:{Name}:{inferenceId}", inferenceId, typed));
        try
        {
            if (typed.TaskType != TaskType.TextEmbedding)
            {
                await CreateChatBackend(target, http).CompleteAsync([new ChatMessage(ChatRole.User, ProbeInput)], null, cancellationToken).ConfigureAwait(false);
                return typed;
            }

            var probe = await new OpenAiWireClient(target, http).GenerateAsync([ProbeInput], null, cancellationToken).ConfigureAwait(false);
            var size = probe.Embeddings[0].Vector.Length;
            if (size == 0)
            {
                throw OpenAiProviderErrors.Malformed(target, "the probe's embedding is empty");
            }

            if (typed.DimensionsSetByUser && typed.Dimensions != size)
            {
                throw InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                    $"The retrieved embeddings size [{size}] does not match the size specified in the settings [{typed.Dimensions}]. Please recreate the [{inferenceId}] configuration with the correct dimensions"));
            }

            return typed with { Dimensions = size, Similarity = typed.Similarity ?? "dot_product" };
        }
        catch (InferenceApiException ex) when (ex.Status != 400 || !ex.Reason.StartsWith("The retrieved embeddings size", StringComparison.Ordinal))
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
        finally
        {
            http.Dispose();
        }
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (OpenAiCompatibleSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var target = BuildTarget(inferenceId, typed);
        var http = _clients.Create(CallOptions($"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed));
        return typed.TaskType switch
        {
            TaskType.TextEmbedding => new InferenceClient { TextEmbedding = new OpenAiWireClient(target, http) },
            TaskType.Completion => new InferenceClient { Completion = new OpenAiChatClient(CreateChatBackend(target, http)) },
            _ => new InferenceClient { ChatCompletion = new OpenAiChatClient(CreateChatBackend(target, http)) },
        };
    }

    /// <summary>The call target of an endpoint: its URLs, headers and dialect.</summary>
    internal OpenAiTarget BuildTarget(string inferenceId, OpenAiCompatibleSettings settings)
    {
        var headers = new List<KeyValuePair<string, string>>();
        if (Profile.IsAzure)
        {
            headers.Add(settings.ApiKey is { } key
                ? KeyValuePair.Create("api-key", key)
                : KeyValuePair.Create("Authorization", $"Bearer {settings.EntraId}"));
        }
        else
        {
            headers.Add(KeyValuePair.Create("Authorization", $"Bearer {settings.ApiKey}"));
        }

        if (settings.OrganizationId is { } organization)
        {
            headers.Add(KeyValuePair.Create("OpenAI-Organization", organization));
        }

        return new OpenAiTarget
        {
            Service = Name,
            InferenceId = inferenceId,
            EmbeddingsUri = settings.TaskType == TaskType.TextEmbedding ? ResolveUri(settings, "/embeddings") : null,
            ChatUri = settings.TaskType == TaskType.TextEmbedding ? null : ResolveUri(settings, "/chat/completions"),
            Model = settings.ModelId,
            Headers = headers,
            ApiKey = settings.ApiKey ?? settings.EntraId,
            User = settings.User,
            Dimensions = settings.DimensionsSetByUser ? settings.Dimensions : null,
            UsesMaxCompletionTokens = Profile.UsesMaxCompletionTokens,
            RequestsStreamUsage = Profile.RequestsStreamUsage,
            Secrets = settings.SecretValues,
        };
    }

    /// <summary>
    /// The request URL of a path: Azure's deployment URL with its <c>api-version</c>; else the tenant's <c>url</c> (taken
    /// whole when it already ends with the path, as Elasticsearch's full URLs do, else as a base), the operator's base URL
    /// of the service, or the provider's default.
    /// </summary>
    internal Uri ResolveUri(OpenAiCompatibleSettings settings, string path)
    {
        if (Profile.IsAzure)
        {
            var host = _clients.Options.AzureOpenAi.BaseUrl?.ToString().TrimEnd('/')
                ?? $"https://{Uri.EscapeDataString(settings.ResourceName!)}.openai.azure.com";
            return new Uri($"{host}/openai/deployments/{Uri.EscapeDataString(settings.DeploymentId!)}{path}?api-version={Uri.EscapeDataString(settings.ApiVersion!)}");
        }

        if (settings.Url is { } url)
        {
            var given = new Uri(url);
            return given.AbsolutePath.TrimEnd('/').EndsWith(path, StringComparison.OrdinalIgnoreCase) ? given : Append(given, path);
        }

        var baseUrl = _clients.Options.BaseUrls.TryGetValue(Name, out var configured) ? configured : Profile.DefaultBaseUrl!;
        return Append(baseUrl, path);
    }

    private static Uri Append(Uri baseUrl, string path)
    {
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + path;
        return builder.Uri;
    }

    private ProviderCallOptions CallOptions(string throttleKey, string inferenceId, OpenAiCompatibleSettings settings) =>
        new(Name, throttleKey, settings.RequestsPerMinute, _clients.Options.AttemptTimeout)
        {
            InferenceId = inferenceId,
        };

    private IOpenAiChatBackend CreateChatBackend(OpenAiTarget target, HttpClient http) =>
        Profile.UsesOfficialClient ? new OpenAiSdkChat(target, http) : new OpenAiWireClient(target, http);

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps);

    private static ServiceConfiguration BuildConfiguration(OpenAiCompatibleProfile profile)
    {
        var all = profile.TaskTypes;
        TaskType[] embeddings = all.Contains(TaskType.TextEmbedding) ? [TaskType.TextEmbedding] : [];
        var fields = new List<KeyValuePair<string, ServiceSettingField>>();
        void Add(string key, string label, string description, bool required, bool sensitive, bool updatable, SettingFieldType type, JsonNode? defaultValue, IReadOnlyList<TaskType> taskTypes)
        {
            if (taskTypes.Count > 0)
            {
                fields.Add(KeyValuePair.Create(key, new ServiceSettingField(label, description, required, sensitive, updatable, type, defaultValue, taskTypes)));
            }
        }

        if (profile.IsAzure)
        {
            Add("api_key", "API Key", "You must provide either an API key or an Entra ID token.", false, true, true, SettingFieldType.Text, null, all);
            Add("entra_id", "Entra ID", "You must provide either an API key or a Microsoft Entra ID token.", false, true, true, SettingFieldType.Text, null, all);
            Add("resource_name", "Resource Name", "The name of your Azure OpenAI resource.", true, false, false, SettingFieldType.Text, null, all);
            Add("deployment_id", "Deployment ID", "The deployment name of your deployed models.", true, false, false, SettingFieldType.Text, null, all);
            Add("api_version", "API Version", "The Azure API version ID to use.", true, false, false, SettingFieldType.Text, null, all);
        }
        else
        {
            Add("api_key", "API Key", $"The {profile.DisplayName} API key; kept encrypted and never shown again.", true, true, true, SettingFieldType.Text, null, all);
            Add(profile.ModelKey, "Model ID", $"The name of the {profile.DisplayName} model to use.", true, false, false, SettingFieldType.Text, null, all);
        }

        if (profile.HasUrl)
        {
            Add("url", "URL", $"The URL to send requests to (the full request URL, or a base URL such as {profile.DefaultBaseUrl}); for OpenAI-compatible gateways.",
                false, false, false, SettingFieldType.Text, profile.DefaultBaseUrl?.ToString(), all);
        }

        if (profile.HasOrganization)
        {
            Add("organization_id", "Organization ID", "The unique identifier of your organization.", false, false, false, SettingFieldType.Text, null, all);
        }

        Add("dimensions", "Dimensions", profile.HasDimensions
            ? "The number of dimensions the resulting embeddings should have; found with a probe call when not set."
            : "The number of dimensions of the embeddings; found with a probe call when the endpoint is created.",
            false, false, false, SettingFieldType.Number, null, embeddings);
        Add("similarity", "Similarity", "The similarity measure: cosine, dot_product (the default) or l2_norm.", false, false, false, SettingFieldType.Text, "dot_product", embeddings);
        Add("max_input_tokens", "Maximum Input Tokens", "Allows you to specify the maximum number of tokens per input.", false, false, false, SettingFieldType.Number, null, all);
        if (profile.DefaultRateLimits is { } defaults)
        {
            fields.Add(RateLimitSetting.Field(all, "Defaults: " + string.Join(", ", defaults.Select(d => $"{d.Key.ToWireName()} {d.Value.ToString(CultureInfo.InvariantCulture)}")) + "."));
        }

        return new ServiceConfiguration(profile.Service, profile.DisplayName, all, fields);
    }
}
