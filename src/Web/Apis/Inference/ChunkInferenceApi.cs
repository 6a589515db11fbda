using System.Text.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// WebConsole's chunked inference, <c>POST /_inference/[{task_type}/]{inference_id}/_chunk</c>: each input is split by the
/// endpoint's chunking settings and every chunk embedded, answering the chunks with their offsets into the input and their
/// embeddings. All chunks of a request go to the endpoint in one call, so the deployment batches them, and the usage is
/// recorded once, like any inference.
/// </summary>
internal static class ChunkInferenceApi
{
    /// <summary>The chunker (on the ICU segmenter that the infrastructure registers) for <c>_chunk</c> and the preview.</summary>
    public static IServiceCollection AddChunking(this IServiceCollection services)
    {
        services.TryAddSingleton<ITextChunker, TextChunker>();
        return services;
    }

    public static IEndpointRouteBuilder MapChunkInferenceApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/_inference").ExcludeFromDescription();
        group.MapPost("/{inference_id}/_chunk", (HttpContext http, InferenceRunner runner, ITextChunker chunker, string inference_id) =>
            ChunkAsync(http, runner, chunker, null, inference_id)).RequireAuthorization(Policies.MonitorInference);
        group.MapPost("/{task_type}/{inference_id}/_chunk", (HttpContext http, InferenceRunner runner, ITextChunker chunker, string task_type, string inference_id) =>
            ChunkAsync(http, runner, chunker, task_type, inference_id)).RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static async Task ChunkAsync(HttpContext http, InferenceRunner runner, ITextChunker chunker, string? taskTypeName, string inferenceId)
    {
        try
        {
            var caller = http.User.GetCaller() ?? throw new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);
            TaskType? requested = taskTypeName is null ? null
                : TaskTypes.TryParse(taskTypeName, out var parsed) ? parsed : throw InferenceApiException.UnknownTaskType(taskTypeName);
            if (requested is { } named && !named.SupportsChunking())
            {
                throw NotChunkable(named);
            }

            // Only embedding task types chunk, and their default timeout is the same.
            var timeout = InferenceRunner.ReadTimeout(http.Request, TaskType.TextEmbedding);
            var body = await InferenceRequests.ReadObjectAsync(http, runner.Limits.MaxRequestBodyBytes, http.RequestAborted);
            using var deadline = runner.StartDeadline(http, timeout);
            try
            {
                var resolved = await runner.ResolveAsync(caller, inferenceId, requested, deadline.Token);
                var taskType = resolved.Endpoint.TaskType;
                if (!taskType.SupportsChunking())
                {
                    throw NotChunkable(taskType);
                }

                var request = InferenceRequests.ParsePerform(body, taskType, runner.Limits);
                await runner.AdmitAsync(caller, resolved, request, deadline.Token);
                var settings = resolved.Endpoint.ChunkingSettings ?? ChunkingSettings.Default;
                var chunks = request.Input.Select(text => chunker.Chunk(text, settings)).ToList();
                var texts = chunks.SelectMany((inputChunks, i) => inputChunks.Select(chunk => chunk.Slice(request.Input[i]))).ToList();

                // Chunks are documents: without an explicit input_type they are embedded as ingested text. A chunk the
                // model cannot read whole is an error, never a silently truncated embedding.
                var options = new EmbeddingOptions
                {
                    InputType = request.InputType == InputType.Unspecified ? InputType.Ingest : request.InputType,
                    AllowTruncation = false,
                };
                var embedded = await EmbedAsync(resolved, texts, options, deadline.Token);

                var cost = await runner.RecordAsync(caller, resolved, embedded.Usage, streamed: false, completed: true);
                InferenceRunner.WriteUsageHeaders(http.Response, embedded.Usage, cost);
                http.Response.ContentType = "application/json";
                await WriteResultsAsync(http.Response.Body, chunks, texts, embedded.Write, http.RequestAborted);
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error && !http.Response.HasStarted)
        {
            InferenceErrors.ApplyHeaders(http.Response, error);
            await SecurityErrors.Elastic(error.Status, error.Type, error.Reason).ExecuteAsync(http);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left; nothing to answer.
        }
    }

    /// <summary>The embeddings of all chunk texts (one call), as a writer of the <c>embedding</c> of chunk <c>i</c>, and the usage.</summary>
    private static async Task<(Action<Utf8JsonWriter, int> Write, UsageDetails Usage)> EmbedAsync(
        ResolvedEndpoint resolved, List<string> texts, EmbeddingOptions options, CancellationToken cancellationToken)
    {
        if (resolved.Endpoint.TaskType == TaskType.TextEmbedding)
        {
            var dense = await (resolved.Client.TextEmbedding ?? throw CannotServe(resolved)).GenerateAsync(texts, options, cancellationToken);
            return ((writer, i) =>
            {
                writer.WriteStartArray("embedding");
                foreach (var value in dense.Embeddings[i].Vector)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }, dense.Usage);
        }

        var sparse = await (resolved.Client.SparseEmbedding ?? throw CannotServe(resolved)).GenerateAsync(texts, options, cancellationToken);
        return ((writer, i) =>
        {
            writer.WriteStartObject("embedding");
            foreach (var (token, weight) in sparse.Embeddings[i].Weights)
            {
                writer.WriteNumber(token, weight);
            }

            writer.WriteEndObject();
        }, sparse.Usage);
    }

    // {"results":[{"chunks":[{"start_offset","end_offset","text","embedding"}]}]}, one result per input in input order.
    private static async Task WriteResultsAsync(
        Stream body, List<IReadOnlyList<TextChunk>> chunks, List<string> texts, Action<Utf8JsonWriter, int> writeEmbedding,
        CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(body);
        writer.WriteStartObject();
        writer.WriteStartArray("results");
        var index = 0;
        foreach (var inputChunks in chunks)
        {
            writer.WriteStartObject();
            writer.WriteStartArray("chunks");
            foreach (var chunk in inputChunks)
            {
                writer.WriteStartObject();
                writer.WriteNumber("start_offset", chunk.StartOffset);
                writer.WriteNumber("end_offset", chunk.EndOffset);
                writer.WriteString("text", texts[index]);
                writeEmbedding(writer, index);
                writer.WriteEndObject();
                index++;

                // Large answers go out as they are written rather than piling up in the writer's buffer.
                if (writer.BytesPending > 64 * 1024)
                {
                    await writer.FlushAsync(cancellationToken);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    private static InferenceApiException NotChunkable(TaskType taskType) => InferenceApiException.BadRequest(
        $"Chunked inference is not supported for task type [{taskType.ToWireName()}], only for [text_embedding] and [sparse_embedding]");

    private static InferenceApiException CannotServe(ResolvedEndpoint resolved) => InferenceApiException.BadRequest(
        $"The [{resolved.Endpoint.Service}] service cannot serve task type [{resolved.Endpoint.TaskType.ToWireName()}]");
}
