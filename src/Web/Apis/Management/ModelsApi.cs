using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Inference.ModelStore;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/models</c>: the installation's models (built-in, imported, on their way in), imports from a hub repository or
/// a server folder, built-in downloads on demand, removal, and a Server-Sent Events stream of download progress.
/// </summary>
internal static class ModelsApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RouteGroupBuilder MapModelsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/models", (ModelManagement models) => TypedResults.Ok(models.List())).RequireAuthorization(Policies.MonitorInference);
        api.MapGet("/models/_progress", StreamProgressAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapPost("/models", ImportAsync).Accepts<ImportModelRequest>("application/json").RequireAuthorization(Policies.PlatformOperator);
        api.MapGet("/models/{**model_id}", (string model_id, ModelManagement models) => TypedResults.Ok(models.Get(model_id)))
            .RequireAuthorization(Policies.MonitorInference);
        api.MapPost("/models/{model_id}/_download", (string model_id, ModelManagement models) => TypedResults.Accepted((string?)null, models.Download(model_id)))
            .RequireAuthorization(Policies.PlatformOperator);
        api.MapDelete("/models/{**model_id}", DeleteAsync).RequireAuthorization(Policies.PlatformOperator);
        return api;
    }

    private static async Task<Results<Created<ModelResponse>, Accepted<ModelResponse>>> ImportAsync(HttpContext context, ModelManagement models)
    {
        var request = await ManagementApi.ReadBodyAsync<ImportModelRequest>(context);
        var wait = string.Equals(context.Request.Query["wait_for_completion"], "true", StringComparison.Ordinal);
        var model = await models.ImportAsync(ManagementApi.Caller(context), request, wait, context.RequestAborted);
        var location = $"{ManagementApi.Prefix}/models/{model.ModelId}";
        return model.Download.State == "downloaded" ? TypedResults.Created(location, model) : TypedResults.Accepted(location, model);
    }

    private static async Task<Ok<ModelResponse>> DeleteAsync(string model_id, HttpContext context, ModelManagement models)
    {
        var force = string.Equals(context.Request.Query["force"], "true", StringComparison.Ordinal);
        return TypedResults.Ok(await models.DeleteAsync(ManagementApi.Caller(context), model_id, force, context.RequestAborted));
    }

    // text/event-stream: the current status of every model on its way in, then each change, as `data: {json}` events
    // (event name `progress`), until the client leaves. ?model_id= narrows it to one model.
    private static async Task StreamProgressAsync(HttpContext context, ModelStore store)
    {
        var only = context.Request.Query["model_id"].ToString();
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await foreach (var status in store.WatchAsync(string.IsNullOrEmpty(only) ? null : only, context.RequestAborted))
            {
                var data = JsonSerializer.Serialize(ModelDownloadResponse.From(status), Json);
                await context.Response.WriteAsync($"event: progress\ndata: {data}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left.
        }
    }
}
