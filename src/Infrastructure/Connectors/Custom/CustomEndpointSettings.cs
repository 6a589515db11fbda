using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>
/// <c>input_type</c>: the provider's words for each input type (<c>translation</c>) and the word for the others
/// (<c>default</c>, empty when absent), which <c>${input_type}</c> renders.
/// </summary>
/// <param name="Translation">Provider word by input type.</param>
/// <param name="Default">The word of an input type without a translation (and of an unstated one).</param>
public sealed record CustomInputTypeTranslation(IReadOnlyDictionary<InputType, string> Translation, string Default)
{
    /// <summary>No translation: every input type renders as the empty string.</summary>
    public static CustomInputTypeTranslation None { get; } = new(new Dictionary<InputType, string>(), string.Empty);

    /// <summary>The provider's word for <paramref name="inputType"/>.</summary>
    public string Translate(InputType inputType) => Translation.GetValueOrDefault(inputType, Default);

    /// <summary>Elasticsearch's wire name of an input type (the translation's keys).</summary>
    public static string WireName(InputType inputType) => inputType switch
    {
        InputType.Search => "search",
        InputType.Ingest => "ingest",
        InputType.Classification => "classification",
        InputType.Clustering => "clustering",
        _ => "unspecified",
    };

    /// <summary>The <c>input_type</c> object as stored and shown (translations sorted by name).</summary>
    public JsonObject ToJson()
    {
        var translation = new JsonObject();
        foreach (var (type, word) in Translation.OrderBy(p => WireName(p.Key), StringComparer.Ordinal))
        {
            translation[WireName(type)] = word;
        }

        return new JsonObject { ["translation"] = translation, ["default"] = Default };
    }
}

/// <summary>
/// Typed settings of a <c>custom</c> endpoint (Elasticsearch's custom service): where and how to call the provider, how
/// to read its answers, the secret parameters and the task settings' <c>parameters</c>, with every template checked
/// once so that a placeholder nothing fills is a 400 at creation.
/// </summary>
public sealed record CustomEndpointSettings : EndpointSettings
{
    /// <summary>Inputs per provider request when <c>batch_size</c> is absent (Elasticsearch's default).</summary>
    public const int DefaultBatchSize = 10;

    /// <summary>Outbound requests per minute when <c>rate_limit</c> is absent (Elasticsearch's default for custom).</summary>
    public const int DefaultRequestsPerMinute = 10_000;

    /// <summary>The settings key that holds all secrets (kept encrypted, never shown).</summary>
    public const string SecretParametersKey = "secret_parameters";

    /// <summary>The <c>url</c> template.</summary>
    public required CustomTemplate Url { get; init; }

    /// <summary>Header name and value template, in the order given.</summary>
    public IReadOnlyList<KeyValuePair<string, CustomTemplate>> Headers { get; init; } = [];

    /// <summary>Query parameter name and value template, in the order given (a name may repeat).</summary>
    public IReadOnlyList<KeyValuePair<string, CustomTemplate>> QueryParameters { get; init; } = [];

    /// <summary>The request body template (<c>request</c>).</summary>
    public required CustomTemplate Request { get; init; }

    /// <summary>The response parser of the task type.</summary>
    public required CustomResponseParser Response { get; init; }

    /// <summary>Secret parameters by name (strings only).</summary>
    public IReadOnlyDictionary<string, string> SecretParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The input type translation.</summary>
    public CustomInputTypeTranslation InputTypeTranslation { get; init; } = CustomInputTypeTranslation.None;

    /// <summary>Most inputs per provider request.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary><c>rate_limit.requests_per_minute</c>.</summary>
    public int RequestsPerMinute { get; init; } = DefaultRequestsPerMinute;

    /// <summary>text_embedding: <c>similarity</c> (<c>cosine</c>, <c>dot_product</c>, <c>l2_norm</c>); null when not known yet.</summary>
    public string? Similarity { get; init; }

    /// <summary>text_embedding: <c>dimensions</c>; the creation's probe fills it in when absent.</summary>
    public int? Dimensions { get; init; }

    /// <summary>text_embedding: <c>max_input_tokens</c>.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>The task settings' <c>parameters</c> (strings, numbers and booleans by name).</summary>
    public JsonObject Parameters { get; init; } = [];

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject();
        if (TaskType == TaskType.TextEmbedding)
        {
            if (Similarity is { } similarity)
            {
                json["similarity"] = similarity;
            }

            if (Dimensions is { } dimensions)
            {
                json["dimensions"] = dimensions;
            }

            if (MaxInputTokens is { } maxInputTokens)
            {
                json["max_input_tokens"] = maxInputTokens;
            }
        }

        json["url"] = Url.Source;
        if (Headers.Count > 0)
        {
            json["headers"] = new JsonObject(Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value.Source)));
        }

        if (QueryParameters.Count > 0)
        {
            json["query_parameters"] = new JsonArray([.. QueryParameters.Select(q => (JsonNode)new JsonArray(q.Key, q.Value.Source))]);
        }

        json["request"] = Request.Source;
        json["response"] = new JsonObject { ["json_parser"] = Response.ToJson() };
        // As Elasticsearch shows them: the translation and the batch size even when they are the defaults.
        json["input_type"] = InputTypeTranslation.ToJson();
        json["batch_size"] = BatchSize;

        json[RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute);
        if (SecretParameters.Count > 0)
        {
            json[SecretParametersKey] = new JsonObject(SecretParameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        }

        return json;
    }

    /// <summary>
    /// Parses <paramref name="serviceSettings"/> and <paramref name="taskSettings"/> of a <paramref name="taskType"/>
    /// endpoint; throws <see cref="InferenceApiException"/> (400) naming what is wrong: a missing or unknown setting, a
    /// bad value, an invalid JSONPath, or a placeholder that no secret parameter, task parameter or request value fills.
    /// </summary>
    public static CustomEndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        const string Section = "service_settings";
        var rest = serviceSettings.DeepClone().AsObject();

        // Maps and lists are taken out first; JsonSettings reads the scalars and rejects what is left over by name.
        var headers = TakeStringMap(rest, "headers", Section, allowEmptyValues: true);
        var secrets = TakeStringMap(rest, SecretParametersKey, Section, allowEmptyValues: false);
        var queryParameters = TakeQueryParameters(rest);
        var responseNode = Take(rest, "response");
        var inputTypeNode = Take(rest, "input_type");

        var map = new JsonSettings(rest, Section);
        string? similarity = null;
        int? dimensions = null;
        int? maxInputTokens = null;
        if (taskType == TaskType.TextEmbedding)
        {
            similarity = map.OptionalString("similarity")?.ToLowerInvariant();
            if (similarity is not (null or "cosine" or "dot_product" or "l2_norm"))
            {
                throw InferenceApiException.BadRequest(
                    $"[{Section}] Invalid value [{similarity}] received. [similarity] must be one of [cosine, dot_product, l2_norm]");
            }

            dimensions = map.OptionalInt("dimensions");
            maxInputTokens = map.OptionalInt("max_input_tokens");
            RequirePositive(dimensions, "dimensions", Section);
            RequirePositive(maxInputTokens, "max_input_tokens", Section);
        }

        var url = map.RequiredString("url");
        var request = map.RequiredString("request");
        var batchSize = map.OptionalInt("batch_size");
        RequirePositive(batchSize, "batch_size", Section);
        var requestsPerMinute = RateLimitSetting.Read(map, DefaultRequestsPerMinute, CustomInferenceService.ServiceName);
        map.ThrowIfNotEmpty(CustomInferenceService.ServiceName);

        var settings = new CustomEndpointSettings
        {
            TaskType = taskType,
            TaskSettings = ParseTaskSettings(taskSettings, out var parameters),
            Parameters = parameters,
            Url = CustomTemplate.Parse(url, "url"),
            Headers = [.. headers.Select(h => KeyValuePair.Create(h.Key, CustomTemplate.Parse(h.Value, $"header.{h.Key}")))],
            QueryParameters = [.. queryParameters.Select(q => KeyValuePair.Create(q.Key, CustomTemplate.Parse(q.Value, $"query parameters: [{q.Key}]")))],
            Request = CustomTemplate.Parse(request, "request"),
            Response = ParseResponse(taskType, responseNode),
            SecretParameters = secrets.ToDictionary(StringComparer.Ordinal),
            InputTypeTranslation = ParseInputType(inputTypeNode),
            BatchSize = batchSize ?? DefaultBatchSize,
            RequestsPerMinute = requestsPerMinute,
            Similarity = similarity,
            Dimensions = dimensions,
            MaxInputTokens = maxInputTokens,
        };

        var shared = settings.Parameters.Select(p => p.Key).Where(settings.SecretParameters.ContainsKey).Order(StringComparer.Ordinal).ToList();
        if (shared.Count > 0)
        {
            throw InferenceApiException.BadRequest(
                $"[task_settings.parameters] cannot contain the same keys as [{SecretParametersKey}]: [{string.Join(", ", shared)}]");
        }

        CheckUrl(settings);
        CheckPlaceholders(settings);
        return settings;
    }

    /// <summary>
    /// The names a placeholder of the request body may use for this task type besides secret and task parameters:
    /// <c>input</c>, and <c>input_type</c> for embeddings, <c>query</c>, <c>top_n</c> and <c>return_documents</c> for rerank.
    /// </summary>
    public static IReadOnlyList<string> RequestValueNames(TaskType taskType) => taskType switch
    {
        TaskType.TextEmbedding or TaskType.SparseEmbedding => ["input", "input_type"],
        TaskType.Rerank => ["input", "query", "top_n", "return_documents"],
        _ => ["input"],
    };

    private static void CheckPlaceholders(CustomEndpointSettings settings)
    {
        var textNames = settings.SecretParameters.Keys
            .Concat(settings.Parameters.Where(p => p.Value?.GetValueKind() == JsonValueKind.String).Select(p => p.Key))
            .ToHashSet(StringComparer.Ordinal);
        var bodyNames = settings.SecretParameters.Keys
            .Concat(settings.Parameters.Select(p => p.Key))
            .Concat(RequestValueNames(settings.TaskType))
            .ToHashSet(StringComparer.Ordinal);
        var templates = new[] { settings.Url }
            .Concat(settings.Headers.Select(h => h.Value))
            .Concat(settings.QueryParameters.Select(q => q.Value));
        var unknown = templates.Select(t => t.FindUnknown(textNames.Contains)).FirstOrDefault(m => m is not null)
            ?? settings.Request.FindUnknown(bodyNames.Contains);
        if (unknown is not null)
        {
            throw InferenceApiException.BadRequest($"Failed to validate model configuration: {unknown}");
        }
    }

    private static void CheckUrl(CustomEndpointSettings settings)
    {
        // Placeholders of the url are secret or task parameters, known now; the rendered url must be http(s). The error
        // names the template only, never the rendered text (it may hold a secret).
        var placeholders = settings.Url.Placeholders.ToHashSet(StringComparer.Ordinal);
        var values = placeholders.ToDictionary(n => n, n => "x", StringComparer.Ordinal);
        string rendered;
        try
        {
            rendered = settings.Url.Render(values);
        }
        catch (CustomTemplateException)
        {
            return; // reported by CheckPlaceholders
        }

        if (!Uri.TryCreate(rendered, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw InferenceApiException.BadRequest(
                $"[service_settings] Invalid url [{settings.Url.Source}] received for field [url]. Error: the url must be an absolute http or https URL");
        }
    }

    private static JsonObject ParseTaskSettings(JsonObject? taskSettings, out JsonObject parameters)
    {
        var rest = taskSettings?.DeepClone().AsObject() ?? [];
        parameters = [];
        if (Take(rest, "parameters") is { } node)
        {
            if (node is not JsonObject given)
            {
                throw InferenceApiException.BadRequest($"[task_settings] Invalid value [{node.ToJsonString()}]. [parameters] must be an object");
            }

            foreach (var (key, value) in given)
            {
                if (value is null)
                {
                    continue; // as Elasticsearch: null parameters are dropped
                }

                if (value.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                {
                    throw InferenceApiException.BadRequest(
                        $"Map field [parameters] has an entry that is not valid. Value type is not one of [String, Integer, Double, Float, Boolean]. Key [{key}], value [{value.ToJsonString()}]");
                }

                parameters[key] = value.DeepClone();
            }
        }

        new JsonSettings(rest, "task_settings").ThrowIfNotEmpty(CustomInferenceService.ServiceName);
        return parameters.Count == 0 ? [] : new JsonObject { ["parameters"] = parameters.DeepClone() };
    }

    private static CustomResponseParser ParseResponse(TaskType taskType, JsonNode? node)
    {
        if (node is null)
        {
            throw InferenceApiException.MissingSetting("response");
        }

        if (node is not JsonObject response)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{node.ToJsonString()}]. [response] must be an object");
        }

        var rest = response.DeepClone().AsObject();
        var parserNode = Take(rest, "json_parser");
        new JsonSettings(rest, "service_settings.response").ThrowIfNotEmpty(CustomInferenceService.ServiceName);
        if (parserNode is null)
        {
            throw InferenceApiException.MissingSetting("json_parser", "service_settings.response");
        }

        if (parserNode is not JsonObject parser)
        {
            throw InferenceApiException.BadRequest($"[service_settings.response] Invalid value [{parserNode.ToJsonString()}]. [json_parser] must be an object");
        }

        const string Scope = "service_settings.response.json_parser";
        var map = new JsonSettings(parser, Scope);
        CustomResponseParser parsed = taskType switch
        {
            TaskType.TextEmbedding => new TextEmbeddingResponseParser(
                Path(map.RequiredString("text_embeddings"), "text_embeddings"),
                (map.OptionalString("embedding_type")?.ToLowerInvariant()) switch
                {
                    null or "float" => CustomEmbeddingType.FloatValues,
                    "byte" => CustomEmbeddingType.ByteValues,
                    "bit" or "binary" => CustomEmbeddingType.Bit,
                    var other => throw InferenceApiException.BadRequest(
                        $"[{Scope}] Invalid value [{other}] received. [embedding_type] must be one of [binary, bit, byte, float]"),
                }),
            TaskType.SparseEmbedding => new SparseEmbeddingResponseParser(
                Path(map.RequiredString("token_path"), "token_path"),
                Path(map.RequiredString("weight_path"), "weight_path")),
            TaskType.Rerank => new RerankResponseParser(
                Path(map.RequiredString("relevance_score"), "relevance_score"),
                map.OptionalString("reranked_index") is { } index ? Path(index, "reranked_index") : null,
                map.OptionalString("document_text") is { } text ? Path(text, "document_text") : null),
            TaskType.Completion => new CompletionResponseParser(Path(map.RequiredString("completion_result"), "completion_result")),
            _ => throw InferenceApiException.BadRequest(
                $"The [{CustomInferenceService.ServiceName}] service does not support task type [{taskType.ToWireName()}]"),
        };
        map.ThrowIfNotEmpty(CustomInferenceService.ServiceName);
        return parsed;

        static JsonPath Path(string text, string key)
        {
            try
            {
                return JsonPath.Parse(text);
            }
            catch (FormatException e)
            {
                throw InferenceApiException.BadRequest($"[{Scope}] Invalid value for [{key}]: {e.Message}");
            }
        }
    }

    private static CustomInputTypeTranslation ParseInputType(JsonNode? node)
    {
        if (node is null)
        {
            return CustomInputTypeTranslation.None;
        }

        if (node is not JsonObject inputType)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{node.ToJsonString()}]. [input_type] must be an object");
        }

        var rest = inputType.DeepClone().AsObject();
        var translation = new Dictionary<InputType, string>();
        foreach (var (key, value) in TakeStringMap(rest, "translation", "service_settings.input_type", allowEmptyValues: false, describeEmpty: true))
        {
            translation[key.ToLowerInvariant() switch
            {
                "search" => InputType.Search,
                "ingest" => InputType.Ingest,
                "classification" => InputType.Classification,
                "clustering" => InputType.Clustering,
                _ => throw InferenceApiException.BadRequest(
                    $"Invalid input type translation for key: [{key}], is not a valid value. Must be one of [CLASSIFICATION, CLUSTERING, INGEST, SEARCH]"),
            }] = value;
        }

        string defaultValue = string.Empty;
        if (Take(rest, "default") is { } defaultNode)
        {
            defaultValue = defaultNode.GetValueKind() == JsonValueKind.String
                ? defaultNode.GetValue<string>()
                : throw InferenceApiException.BadRequest(
                    $"[service_settings.input_type] Invalid value [{defaultNode.ToJsonString()}]. [default] must be a string");
        }

        new JsonSettings(rest, "service_settings.input_type").ThrowIfNotEmpty(CustomInferenceService.ServiceName);
        return translation.Count == 0 && defaultValue.Length == 0
            ? CustomInputTypeTranslation.None
            : new CustomInputTypeTranslation(translation, defaultValue);
    }

    private static List<KeyValuePair<string, string>> TakeStringMap(
        JsonObject settings, string key, string section, bool allowEmptyValues, bool describeEmpty = false)
    {
        var node = Take(settings, key);
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject map)
        {
            throw InferenceApiException.BadRequest($"[{section}] Invalid value [{node.ToJsonString()}]. [{key}] must be an object");
        }

        var values = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in map)
        {
            if (value is null)
            {
                continue; // null entries are dropped, as Elasticsearch does
            }

            if (value.GetValueKind() != JsonValueKind.String || (!allowEmptyValues && value.GetValue<string>().Length == 0))
            {
                // The value is not echoed: it may be a secret.
                throw InferenceApiException.BadRequest(describeEmpty
                    ? $"Input type translation value for key [{name}] must be a String that is not null and not empty"
                    : $"Map field [{key}] has an entry that is not valid, [{name}]. Value type of [{Kind(value)}] is not one of [String]{(allowEmptyValues ? string.Empty : " or is empty")}");
            }

            values.Add(KeyValuePair.Create(name, value.GetValue<string>()));
        }

        return values;
    }

    private static List<KeyValuePair<string, string>> TakeQueryParameters(JsonObject settings)
    {
        var node = Take(settings, "query_parameters");
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray list)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{node.ToJsonString()}]. [query_parameters] must be a list of [key, value] pairs");
        }

        var pairs = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonArray { Count: 2 } pair
                || pair[0]?.GetValueKind() != JsonValueKind.String || pair[1]?.GetValueKind() != JsonValueKind.String)
            {
                throw InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                    $"[service_settings] failed parsing field [query_parameters], entry [{i}] must be a list of two strings [key, value], received [{list[i]?.ToJsonString() ?? "null"}]"));
            }

            pairs.Add(KeyValuePair.Create(pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()));
        }

        return pairs;
    }

    private static void RequirePositive(int? value, string key, string section)
    {
        if (value is < 1)
        {
            throw InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                $"[{section}] Invalid value [{value}]. [{key}] must be a positive integer"));
        }
    }

    private static string Kind(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Number => "Number",
        JsonValueKind.True or JsonValueKind.False => "Boolean",
        JsonValueKind.Object => "Map",
        JsonValueKind.Array => "List",
        _ => "String",
    };

    private static JsonNode? Take(JsonObject settings, string key) => settings.Remove(key, out var node) ? node : null;
}
