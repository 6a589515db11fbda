using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>The values of one inference request that the templates may use.</summary>
/// <param name="Input">The inputs (documents for rerank; the prompt for completion).</param>
/// <param name="InputType">The request's input type (embeddings).</param>
/// <param name="Query">The rerank query.</param>
/// <param name="TopN">The rerank <c>top_n</c>, when given.</param>
/// <param name="ReturnDocuments">The rerank <c>return_documents</c>, when given.</param>
public sealed record CustomRequestValues(
    IReadOnlyList<string> Input,
    InputType InputType = InputType.Unspecified,
    string? Query = null,
    int? TopN = null,
    bool? ReturnDocuments = null);

/// <summary>A rendered provider request: always a POST of <see cref="Body"/> to <see cref="Uri"/>.</summary>
/// <param name="Uri">The url with its query parameters.</param>
/// <param name="Headers">Header names and values (<c>Content-Type</c> is <c>application/json</c> unless one is given).</param>
/// <param name="Body">The request body.</param>
public sealed record CustomHttpRequest(Uri Uri, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body);

/// <summary>
/// Renders a <c>custom</c> endpoint's templates for one request, with Elasticsearch's rules: the url, headers and query
/// parameters take secret and task parameters that are strings, as plain text; the body takes every secret and task
/// parameter and the request's values as JSON (<c>${input}</c> is a JSON array of strings, a JSON string for completion;
/// <c>${input_type}</c> the translated word as a JSON string; <c>${query}</c> a JSON string; <c>${top_n}</c> a number;
/// <c>${return_documents}</c> a boolean), so a template reads <c>{"texts": ${input}, "model": ${model}}</c> without quotes
/// around placeholders. A request value wins over a task parameter of the same name. Thread-safe (static).
/// </summary>
public static class CustomRequestBuilder
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The request for <paramref name="values"/>; throws <see cref="CustomTemplateException"/> when a template uses a
    /// value this request does not have (e.g. <c>${top_n}</c> without <c>top_n</c>).
    /// </summary>
    public static CustomHttpRequest Build(CustomEndpointSettings settings, CustomRequestValues values)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(values);
        var text = TextValues(settings);
        var url = new StringBuilder(settings.Url.Render(text));
        var separator = url.ToString().Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach (var (name, template) in settings.QueryParameters)
        {
            url.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(template.Render(text)));
            separator = '&';
        }

        var headers = settings.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.Render(text))).ToList();
        var body = settings.Request.Render(BodyValues(settings, values));
        return new CustomHttpRequest(new Uri(url.ToString(), UriKind.Absolute), headers, body);
    }

    /// <summary>A value as the body renders it: JSON text, strings escaped the way a JSON writer does.</summary>
    public static string ToJson(JsonNode? value) => value?.ToJsonString(Json) ?? "null";

    /// <summary>A string as a JSON string literal.</summary>
    public static string ToJson(string value) => JsonSerializer.Serialize(value, Json);

    private static Dictionary<string, string> TextValues(CustomEndpointSettings settings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in settings.Parameters)
        {
            if (value?.GetValueKind() == JsonValueKind.String)
            {
                values[name] = value.GetValue<string>();
            }
        }

        foreach (var (name, value) in settings.SecretParameters)
        {
            values[name] = value;
        }

        return values;
    }

    private static Dictionary<string, string> BodyValues(CustomEndpointSettings settings, CustomRequestValues request)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in settings.Parameters)
        {
            values[name] = ToJson(value);
        }

        foreach (var (name, value) in settings.SecretParameters)
        {
            values[name] = ToJson(value);
        }

        switch (settings.TaskType)
        {
            case TaskType.Completion:
                values["input"] = ToJson(request.Input.Count > 0 ? request.Input[0] : string.Empty);
                break;
            case TaskType.Rerank:
                values["input"] = ToJson(new JsonArray([.. request.Input.Select(i => (JsonNode)i)]));
                if (request.Query is { } query)
                {
                    values["query"] = ToJson(query);
                }

                if (request.TopN is { } topN)
                {
                    values["top_n"] = topN.ToString(CultureInfo.InvariantCulture);
                }

                if (request.ReturnDocuments is { } returnDocuments)
                {
                    values["return_documents"] = returnDocuments ? "true" : "false";
                }

                break;
            default:
                values["input"] = ToJson(new JsonArray([.. request.Input.Select(i => (JsonNode)i)]));
                values["input_type"] = ToJson(settings.InputTypeTranslation.Translate(request.InputType));
                break;
        }

        return values;
    }
}
