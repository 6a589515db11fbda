using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Apis.Inference;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.OpenAi;

/// <summary>
/// The OpenAI-compatible surface: <c>POST /v1/chat/completions</c>, <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>.
/// <c>model</c> is an inference endpoint id of the caller's organization; errors are OpenAI's
/// <c>{"error":{message,type,param,code}}</c>.
/// </summary>
internal static class OpenAiApi
{
    private static readonly HashSet<string> ChatKeys = new(StringComparer.Ordinal)
    {
        "messages", "model", "max_completion_tokens", "max_tokens", "stop", "temperature", "top_p", "seed", "stream",
        "stream_options", "tools", "tool_choice", "n", "user", "presence_penalty", "frequency_penalty", "logit_bias",
        "response_format", "parallel_tool_calls", "store", "metadata",
    };

    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1").ExcludeFromDescription();
        group.MapPost("/chat/completions", ChatAsync).RequireAuthorization(Policies.MonitorInference);
        group.MapPost("/embeddings", EmbeddingsAsync).RequireAuthorization(Policies.MonitorInference);
        group.MapGet("/models", ModelsAsync).RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static async Task ChatAsync(HttpContext http, InferenceRunner runner)
    {
        var events = new ServerSentEvents(http.Response);
        try
        {
            var caller = Caller(http);
            var body = await InferenceRequests.ReadObjectAsync(http, runner.Limits.MaxRequestBodyBytes, http.RequestAborted);
            var model = RequiredModel(body);
            var chat = InferenceRequests.ParseChat(body, ChatKeys, runner.Limits);
            var stream = body["stream"] is JsonValue s && s.TryGetValue<bool>(out var on) && on;
            var includeUsage = body["stream_options"] is JsonObject o && o["include_usage"] is JsonValue u && u.TryGetValue<bool>(out var usageOn) && usageOn;
            using var deadline = runner.StartDeadline(http, InferenceRunner.ReadTimeout(http.Request, TaskType.ChatCompletion));
            try
            {
                var resolved = await ResolveAsync(runner, caller, model, TaskType.ChatCompletion, deadline.Token);
                var request = new InferenceRequest([], null, InputType.Unspecified, [], null, true, chat);
                await runner.AdmitAsync(caller, resolved, request, deadline.Token);
                var id = ChatShapes.NewId();
                var created = runner.Time.GetUtcNow().ToUnixTimeSeconds();
                if (!stream)
                {
                    var (result, usage) = await InferenceRunner.RunAsync(resolved, request, deadline.Token);
                    result["model"] = model;
                    var cost = await runner.RecordAsync(caller, resolved, usage, streamed: false, completed: true);
                    InferenceRunner.WriteUsageHeaders(http.Response, usage, cost);
                    http.Response.ContentType = "application/json";
                    await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted);
                    return;
                }

                if (!resolved.Service.SupportsStreaming(TaskType.ChatCompletion))
                {
                    throw InferenceApiException.StreamingNotAllowed(resolved.Endpoint.Service, TaskType.ChatCompletion.ToWireName());
                }

                await new GenerationStreamer(runner, caller, resolved, deadline).RunAsync(
                    events,
                    InferenceRunner.Stream(resolved, request, deadline.Token),
                    (update, first, ct) => events.WriteAsync(null, ChatShapes.Chunk(id, model, created, first ? "assistant" : null, update.Text, update.FinishReason), ct),
                    async (usage, cost, ct) =>
                    {
                        if (includeUsage)
                        {
                            await events.WriteAsync(null, ChatShapes.UsageChunk(id, model, created, usage, cost), ct);
                        }

                        await events.WriteRawAsync(null, "[DONE]", ct);
                    },
                    (error, ct) => events.WriteAsync(null, ErrorBody(error), ct));
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error && !http.Response.HasStarted)
        {
            await WriteErrorAsync(http, error);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; the streamer has recorded the usage.
        }
    }

    private static async Task EmbeddingsAsync(HttpContext http, InferenceRunner runner)
    {
        try
        {
            var caller = Caller(http);
            var body = await InferenceRequests.ReadObjectAsync(http, runner.Limits.MaxRequestBodyBytes, http.RequestAborted);
            foreach (var (key, _) in body)
            {
                if (key is not ("input" or "model" or "encoding_format" or "dimensions" or "user"))
                {
                    throw InferenceApiException.BadRequest($"Unrecognized request argument supplied: {key}");
                }
            }

            var model = RequiredModel(body);
            var format = body["encoding_format"] is JsonValue f && f.TryGetValue<string>(out var name) ? name : "float";
            if (format is not ("float" or "base64"))
            {
                throw InferenceApiException.BadRequest($"Invalid value for 'encoding_format': '{format}', expected 'float' or 'base64'");
            }

            var input = InferenceRequests.ReadInput(body["input"], runner.Limits);
            InferenceRequests.CheckSize(input, null, runner.Limits);
            using var deadline = runner.StartDeadline(http, InferenceRunner.ReadTimeout(http.Request, TaskType.TextEmbedding));
            try
            {
                var resolved = await ResolveAsync(runner, caller, model, TaskType.TextEmbedding, deadline.Token);
                var generator = resolved.Client.TextEmbedding
                    ?? throw InferenceApiException.BadRequest($"The [{resolved.Endpoint.Service}] service cannot serve embeddings");
                await runner.AdmitAsync(caller, resolved, new InferenceRequest(input, null, InputType.Unspecified, [], null, false, null), deadline.Token);
                var result = await generator.GenerateAsync(input, null, deadline.Token);
                var data = new JsonArray();
                for (var i = 0; i < result.Embeddings.Count; i++)
                {
                    var vector = result.Embeddings[i].Vector;
                    JsonNode embedding = format == "base64"
                        ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))
                        : new JsonArray([.. vector.Select(v => (JsonNode)v)]);
                    data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
                }

                var cost = await runner.RecordAsync(caller, resolved, result.Usage, streamed: false, completed: true);
                InferenceRunner.WriteUsageHeaders(http.Response, result.Usage, cost);
                var answer = new JsonObject
                {
                    ["object"] = "list",
                    ["data"] = data,
                    ["model"] = model,
                    ["usage"] = new JsonObject { ["prompt_tokens"] = result.Usage.InputTokens, ["total_tokens"] = result.Usage.TotalTokens },
                };
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(answer.ToJsonString(), http.RequestAborted);
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error && !http.Response.HasStarted)
        {
            await WriteErrorAsync(http, error);
        }
    }

    private static async Task ModelsAsync(HttpContext http, WebConsoleDbContext db, ReservedEndpoints reserved, CancellationToken cancellationToken)
    {
        CallerIdentity caller;
        try
        {
            caller = Caller(http);
        }
        catch (InferenceApiException error)
        {
            await WriteErrorAsync(http, error);
            return;
        }

        await reserved.EnsureAsync(db, caller.OrganizationId, cancellationToken);
        var endpoints = await db.InferenceEndpoints.AsNoTracking()
            .Where(e => e.OrganizationId == caller.OrganizationId)
            .ToListAsync(cancellationToken);
        var data = new JsonArray();
        foreach (var endpoint in endpoints.Where(e => caller.MayUse(e.InferenceId.Value)).OrderBy(e => e.InferenceId.Value, StringComparer.Ordinal))
        {
            data.Add(new JsonObject
            {
                ["id"] = endpoint.InferenceId.Value,
                ["object"] = "model",
                ["created"] = endpoint.CreatedAt.ToUnixTimeSeconds(),
                ["owned_by"] = endpoint.IsReserved ? "webconsole" : endpoint.Service,
            });
        }

        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(new JsonObject { ["object"] = "list", ["data"] = data }.ToJsonString(), cancellationToken);
    }

    private static CallerIdentity Caller(HttpContext http) =>
        http.User.GetCaller() ?? throw new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);

    private static string RequiredModel(JsonObject body) =>
        body["model"] is JsonValue m && m.TryGetValue<string>(out var model) && !string.IsNullOrEmpty(model)
            ? model
            : throw new InferenceApiException(400, "missing_model", "you must provide a model parameter");

    private static async Task<ResolvedEndpoint> ResolveAsync(InferenceRunner runner, CallerIdentity caller, string model, TaskType taskType, CancellationToken cancellationToken)
    {
        try
        {
            return await runner.ResolveAsync(caller, model, taskType, cancellationToken);
        }
        catch (InferenceApiException ex) when (ex.Status == 404)
        {
            throw new InferenceApiException(404, "model_not_found", $"The model `{model}` does not exist or you do not have access to it.", ex);
        }
    }

    /// <summary>OpenAI's error object for a WebConsole error.</summary>
    private static JsonObject ErrorBody(InferenceApiException error)
    {
        var (type, code) = error.Status switch
        {
            401 => ("invalid_request_error", "invalid_api_key"),
            403 => ("permission_error", "insufficient_permissions"),
            404 => ("invalid_request_error", "model_not_found"),
            408 => ("timeout_error", "timeout"),
            413 => ("invalid_request_error", "request_too_large"),
            402 => ("insufficient_quota", "insufficient_quota"),
            429 => ("rate_limit_error", "rate_limit_exceeded"),
            >= 500 => ("server_error", error.Type),
            _ => ("invalid_request_error", error.Type == InferenceApiException.StatusExceptionType ? null : error.Type),
        };
        return new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = error.Reason,
                ["type"] = type,
                ["param"] = error.Type == "missing_model" ? "model" : null,
                ["code"] = code,
            },
        };
    }

    private static async Task WriteErrorAsync(HttpContext http, InferenceApiException error)
    {
        InferenceErrors.ApplyHeaders(http.Response, error);

        // An exhausted budget is OpenAI's exhausted quota: 429 with the type insufficient_quota (and no Retry-After).
        http.Response.StatusCode = error.Status == StatusCodes.Status402PaymentRequired ? StatusCodes.Status429TooManyRequests : error.Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(ErrorBody(error).ToJsonString(), http.RequestAborted);
    }
}
