using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// Elasticsearch's perform-inference routes: <c>POST /_inference/[{task_type}/]{inference_id}</c> and the
/// <c>_stream</c> routes of completion and chat_completion.
/// </summary>
internal static class PerformInferenceApi
{
    public static IServiceCollection AddInferenceApi(this IServiceCollection services)
    {
        services.AddOptions<InferenceApiOptions>().BindConfiguration(InferenceApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<InferenceRunner>();
        // Billing (issue 8) registers its own sink before or after this; the no-op default only fills the gap.
        services.TryAddSingleton<IInferenceUsageSink, NoInferenceUsageSink>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    public static IEndpointRouteBuilder MapPerformInferenceApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/_inference").ExcludeFromDescription();
        group.MapPost("/{inference_id}", (HttpContext http, InferenceRunner runner, string inference_id) =>
            PerformAsync(http, runner, null, inference_id)).RequireAuthorization(Policies.MonitorInference);
        group.MapPost("/{task_type}/{inference_id}", (HttpContext http, InferenceRunner runner, string task_type, string inference_id) =>
            PerformAsync(http, runner, task_type, inference_id)).RequireAuthorization(Policies.MonitorInference);
        group.MapPost("/completion/{inference_id}/_stream", (HttpContext http, InferenceRunner runner, string inference_id) =>
            StreamAsync(http, runner, TaskType.Completion, inference_id)).RequireAuthorization(Policies.MonitorInference);
        group.MapPost("/chat_completion/{inference_id}/_stream", (HttpContext http, InferenceRunner runner, string inference_id) =>
            StreamAsync(http, runner, TaskType.ChatCompletion, inference_id)).RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static async Task PerformAsync(HttpContext http, InferenceRunner runner, string? taskTypeName, string inferenceId)
    {
        try
        {
            var caller = http.User.GetCaller() ?? throw new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);
            TaskType? requested = taskTypeName is null ? null
                : TaskTypes.TryParse(taskTypeName, out var parsed) ? parsed : throw InferenceApiException.UnknownTaskType(taskTypeName);
            var timeout = InferenceRunner.ReadTimeout(http.Request, requested ?? TaskType.TextEmbedding);
            var body = await InferenceRequests.ReadObjectAsync(http, runner.Limits.MaxRequestBodyBytes, http.RequestAborted);

            // The default timeout depends on the endpoint's task type, known only once it is resolved; the resolution
            // itself (which may wait for a deployment) runs under the longest default.
            using var deadline = runner.StartDeadline(http, http.Request.Query.ContainsKey("timeout") ? timeout : TimeSpan.FromSeconds(120));
            try
            {
                var resolved = await runner.ResolveAsync(caller, inferenceId, requested, deadline.Token);
                var request = InferenceRequests.ParsePerform(body, resolved.Endpoint.TaskType, runner.Limits);
                if (!http.Request.Query.ContainsKey("timeout"))
                {
                    deadline.Restart(InferenceRunner.ReadTimeout(http.Request, resolved.Endpoint.TaskType));
                }

                await runner.AdmitAsync(caller, resolved, request, deadline.Token);
                var (result, usage) = await InferenceRunner.RunAsync(resolved, request, deadline.Token);
                var cost = await runner.RecordAsync(caller, resolved, usage, streamed: false, completed: true);
                InferenceRunner.WriteUsageHeaders(http.Response, usage, cost);
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted);
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
            // The client left; nothing to answer.
        }
    }

    private static async Task StreamAsync(HttpContext http, InferenceRunner runner, TaskType taskType, string inferenceId)
    {
        var events = new ServerSentEvents(http.Response);
        try
        {
            var caller = http.User.GetCaller() ?? throw new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);
            var timeout = InferenceRunner.ReadTimeout(http.Request, taskType);
            var body = await InferenceRequests.ReadObjectAsync(http, runner.Limits.MaxRequestBodyBytes, http.RequestAborted);
            using var deadline = runner.StartDeadline(http, timeout);
            ResolvedEndpoint resolved;
            try
            {
                resolved = await runner.ResolveAsync(caller, inferenceId, taskType, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }

            if (!resolved.Service.SupportsStreaming(taskType))
            {
                throw InferenceApiException.StreamingNotAllowed(resolved.Endpoint.Service, taskType.ToWireName());
            }

            var request = InferenceRequests.ParsePerform(body, taskType, runner.Limits);
            await runner.AdmitAsync(caller, resolved, request, deadline.Token);
            var model = InferenceRunner.ModelName(resolved, request.Chat?.Model);
            var id = ChatShapes.NewId();
            var created = runner.Time.GetUtcNow().ToUnixTimeSeconds();
            await new GenerationStreamer(runner, caller, resolved, deadline).RunAsync(
                events,
                InferenceRunner.Stream(resolved, request, deadline.Token),
                async (update, first, ct) => await events.WriteAsync("message", taskType == TaskType.Completion
                    ? new JsonObject { ["completion"] = new JsonArray(new JsonObject { ["delta"] = update.Text }) }
                    : ChatShapes.Chunk(id, model, created, first ? "assistant" : null, update.Text, update.FinishReason), ct),
                async (usage, cost, ct) =>
                {
                    await events.WriteAsync("message", taskType == TaskType.Completion
                        ? new JsonObject { ["completion"] = new JsonArray(), ["usage"] = ChatShapes.Usage(usage, cost) }
                        : ChatShapes.UsageChunk(id, model, created, usage, cost), ct);
                    await events.WriteRawAsync("message", "[DONE]", ct);
                },
                async (error, ct) => await events.WriteAsync("error", JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(SecurityErrors.Envelope(error.Status, error.Type, error.Reason)))!, ct));
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error && !events.Started)
        {
            await WriteErrorAsync(http, error);
        }
    }

    private static Task WriteErrorAsync(HttpContext http, InferenceApiException error)
    {
        InferenceErrors.ApplyHeaders(http.Response, error);
        return SecurityErrors.Elastic(error.Status, error.Type, error.Reason).ExecuteAsync(http);
    }
}
