using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Text;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// <c>POST /api/chunking/preview</c>: how texts would be chunked, by the settings given in the request or by those of one
/// of the caller's endpoints, without running a model (the endpoint details page shows it). A management route, so its
/// errors are ProblemDetails; the settings are validated with the contract's chunking messages.
/// </summary>
internal static class ChunkPreviewApi
{
    private const string InputKey = "input";
    private const string ChunkingSettingsKey = "chunking_settings";
    private const string InferenceIdKey = "inference_id";

    public static IEndpointRouteBuilder MapChunkPreviewApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup(ManagementApi.Prefix).WithTags("Management")
            .MapPost("/chunking/preview", PreviewAsync)
            .Accepts<JsonObject>("application/json")
            .WithSummary("Chunks texts by the given chunking_settings or by those of the endpoint inference_id; no model runs.")
            .RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static async Task<Results<Ok<ChunkPreviewResponse>, ProblemHttpResult>> PreviewAsync(
        HttpContext context, ITextChunker chunker, ITextSegmenter segmenter, InferenceEndpointService endpoints, IOptions<InferenceApiOptions> limits)
    {
        var body = await ManagementApi.ReadBodyAsync<JsonObject>(context);
        var unknown = body.Select(p => p.Key).Where(k => k is not (InputKey or ChunkingSettingsKey or InferenceIdKey)).ToList();
        if (unknown.Count > 0)
        {
            throw DomainValidationException.FromErrors(unknown
                .Select(k => $"[{k}] is not a field of a chunking preview; use [{InputKey}] with [{ChunkingSettingsKey}] or [{InferenceIdKey}]")
                .ToList());
        }

        var inputs = ReadInput(body[InputKey], limits.Value);
        var bytes = inputs.Sum(text => (long)Encoding.UTF8.GetByteCount(text));
        if (bytes > limits.Value.MaxInputBytes)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Payload Too Large",
                detail: $"Input is too large [{bytes}] bytes, the maximum is [{limits.Value.MaxInputBytes}] bytes");
        }

        var settings = await SettingsAsync(body, ManagementApi.Caller(context), endpoints, context.RequestAborted);
        var results = inputs.Select(text => new ChunkPreviewResult([.. chunker.Chunk(text, settings).Select(chunk =>
        {
            var slice = chunk.Slice(text);
            return new ChunkPreview(chunk.StartOffset, chunk.EndOffset, slice, segmenter.CountWords(slice));
        })])).ToArray();
        return TypedResults.Ok(new ChunkPreviewResponse(results, EndpointJson.ChunkingToJson(settings)));
    }

    /// <summary>The settings to preview: the endpoint's, the request's, or the default (sentence, 250, 1).</summary>
    private static async Task<ChunkingSettings> SettingsAsync(
        JsonObject body, CallerIdentity caller, InferenceEndpointService endpoints, CancellationToken cancellationToken)
    {
        var given = body[ChunkingSettingsKey];
        if (body[InferenceIdKey] is not { } idNode)
        {
            return given switch
            {
                null => ChunkingSettings.Default,
                JsonObject settings => EndpointJson.ChunkingFromJson(settings),
                _ => throw new DomainValidationException($"[{ChunkingSettingsKey}] must be an object"),
            };
        }

        if (given is not null)
        {
            throw new DomainValidationException(
                $"[{InferenceIdKey}] and [{ChunkingSettingsKey}] cannot both be given: preview an endpoint's settings or the given ones");
        }

        var inferenceId = idNode is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new DomainValidationException($"[{InferenceIdKey}] must be a string");
        JsonObject found;
        try
        {
            // The endpoint service sees only the caller's organization and key allow-list: anything else is not found.
            found = await endpoints.GetAsync(caller, null, inferenceId, cancellationToken);
        }
        catch (InferenceApiException notFound) when (notFound.Status == StatusCodes.Status404NotFound)
        {
            throw new ResourceNotFoundException(notFound.Reason);
        }

        var endpoint = found["endpoints"]![0]!;
        return endpoint[ChunkingSettingsKey] is JsonObject stored
            ? EndpointJson.ChunkingFromJson(stored)
            : throw new DomainValidationException(
                $"[{InferenceIdKey}] endpoint [{inferenceId}] of task type [{endpoint["task_type"]}] does not chunk its inputs");
    }

    private static List<string> ReadInput(JsonNode? input, InferenceApiOptions limits)
    {
        List<string> inputs = input switch
        {
            null => throw new DomainValidationException($"[{InputKey}] cannot be null"),
            JsonValue single when single.TryGetValue<string>(out var text) => [text],
            JsonArray list when list.All(item => item is JsonValue v && v.TryGetValue<string>(out _)) => [.. list.Select(item => item!.GetValue<string>())],
            _ => throw new DomainValidationException($"[{InputKey}] must be a string or an array of strings"),
        };
        if (inputs.Count == 0)
        {
            throw new DomainValidationException($"[{InputKey}] cannot be an empty array");
        }

        return inputs.Count <= limits.MaxInputs
            ? inputs
            : throw new DomainValidationException($"[{InputKey}] has too many entries [{inputs.Count}], the maximum is [{limits.MaxInputs}]");
    }
}

/// <summary>The answer of <c>POST /api/chunking/preview</c>: one result per input, and the settings that were applied.</summary>
public sealed record ChunkPreviewResponse(
    [property: JsonPropertyName("results")] IReadOnlyList<ChunkPreviewResult> Results,
    [property: JsonPropertyName("chunking_settings")] JsonObject ChunkingSettings);

/// <summary>The chunks of one input, in text order.</summary>
public sealed record ChunkPreviewResult([property: JsonPropertyName("chunks")] IReadOnlyList<ChunkPreview> Chunks);

/// <summary>One chunk: UTF-16 offsets into the input (end exclusive), its text, and its words as the chunker counts them.</summary>
public sealed record ChunkPreview(
    [property: JsonPropertyName("start_offset")] int StartOffset,
    [property: JsonPropertyName("end_offset")] int EndOffset,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("word_count")] int WordCount);
