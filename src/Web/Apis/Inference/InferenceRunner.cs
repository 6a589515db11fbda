using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// What both REST surfaces share: running a request on a resolved endpoint, its timeout, and its usage (recorded once,
/// reported in headers). Scoped.
/// </summary>
internal sealed class InferenceRunner(
    IEndpointResolver resolver,
    IInferenceUsageSink usageSink,
    InferenceAdmission admission,
    IOptions<InferenceApiOptions> options,
    TimeProvider time,
    IHttpContextAccessor http) : IDisposable
{
    private AdmissionTicket? _ticket;
    private Surface? _surface;

    public const string InputTokensHeader = "x-webconsole-input-tokens";
    public const string OutputTokensHeader = "x-webconsole-output-tokens";
    public const string CostHeader = "x-webconsole-cost";

    public InferenceApiOptions Limits => options.Value;

    /// <summary>This request's id: the usage record's, and the key that makes recording it twice harmless.</summary>
    public string RequestId { get; } = Guid.CreateVersion7().ToString("N");

    public TimeProvider Time => time;

    /// <summary>
    /// Detaches the runner from the HTTP request, for callers outside one (the chat hub, the portal's circuit): usage is
    /// recorded under <paramref name="surface"/> and no response headers are written.
    /// </summary>
    public void UseSurface(Surface surface) => _surface = surface;

    public Task<ResolvedEndpoint> ResolveAsync(CallerIdentity caller, string inferenceId, TaskType? taskType, CancellationToken cancellationToken) =>
        resolver.ResolveAsync(caller, inferenceId, taskType, cancellationToken);

    /// <summary>The request's <c>timeout</c> query value, or the default of the task type (30s; 120s for generation).</summary>
    public static TimeSpan ReadTimeout(HttpRequest request, TaskType taskType)
    {
        var value = request.Query["timeout"].ToString();
        if (string.IsNullOrEmpty(value))
        {
            return taskType is TaskType.Completion or TaskType.ChatCompletion ? TimeSpan.FromSeconds(120) : TimeSpan.FromSeconds(30);
        }

        return value == "-1" ? Timeout.InfiniteTimeSpan
            : SecurityApi.ParseTimeValue(value) is { } timeout && timeout > TimeSpan.Zero ? timeout
            : throw InferenceApiException.BadRequest($"failed to parse setting [timeout] with value [{value}] as a time value: unit is missing or unrecognized");
    }

    /// <summary>A token that fires on the client's disconnect or after <paramref name="timeout"/>.</summary>
    public RequestDeadline StartDeadline(HttpContext http, TimeSpan timeout) => new(timeout, time, http.RequestAborted);

    /// <summary>Runs a non-streamed task and answers the Elasticsearch-shaped body (OpenAI's for chat) and the usage.</summary>
    public static async Task<(JsonNode Body, UsageDetails Usage)> RunAsync(ResolvedEndpoint resolved, InferenceRequest request, CancellationToken cancellationToken)
    {
        var client = resolved.Client;
        var embeddingOptions = new EmbeddingOptions { InputType = request.InputType };
        switch (resolved.Endpoint.TaskType)
        {
            case TaskType.TextEmbedding:
                var dense = await Require(client.TextEmbedding, resolved).GenerateAsync(request.Input, embeddingOptions, cancellationToken);
                return (new JsonObject
                {
                    ["text_embedding"] = new JsonArray([.. dense.Embeddings.Select(e => (JsonNode)new JsonObject { ["embedding"] = FloatArray(e.Vector) })]),
                }, dense.Usage);
            case TaskType.SparseEmbedding:
                var sparse = await Require(client.SparseEmbedding, resolved).GenerateAsync(request.Input, embeddingOptions, cancellationToken);
                return (new JsonObject
                {
                    ["sparse_embedding"] = new JsonArray([.. sparse.Embeddings.Select(e => (JsonNode)new JsonObject
                    {
                        ["is_truncated"] = e.IsTruncated,
                        ["embedding"] = new JsonObject(e.Weights.Select(w => KeyValuePair.Create(w.Key, (JsonNode?)JsonValue.Create(w.Value)))),
                    })]),
                }, sparse.Usage);
            case TaskType.Rerank:
                var ranked = await Require(client.Rerank, resolved).RerankAsync(request.Query!, request.Input, new RerankOptions { TopN = request.TopN, ReturnDocuments = request.ReturnDocuments }, cancellationToken);
                return (new JsonObject
                {
                    ["rerank"] = new JsonArray([.. ranked.Documents
                        .OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index)
                        .Take(request.TopN ?? int.MaxValue)
                        .Select(d =>
                        {
                            var item = new JsonObject { ["index"] = d.Index, ["relevance_score"] = d.RelevanceScore };
                            if (request.ReturnDocuments)
                            {
                                item["text"] = request.Input[d.Index];
                            }

                            return (JsonNode)item;
                        })]),
                }, ranked.Usage);
            case TaskType.Completion:
                var completion = await Require(client.Completion, resolved).CompleteAsync(request.Input[0], null, cancellationToken);
                return (new JsonObject
                {
                    ["completion"] = new JsonArray(new JsonObject { ["result"] = completion.Text }),
                }, completion.Usage);
            default:
                var chat = request.Chat!;
                var response = await Require(client.ChatCompletion, resolved).GetResponseAsync(chat.Messages, chat.Options, cancellationToken);
                return (ChatShapes.Completion(ChatShapes.NewId(), ModelName(resolved, chat.Model), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), response), response.Usage);
        }
    }

    /// <summary>The generation stream of a completion or chat endpoint.</summary>
    public static IAsyncEnumerable<GenerationUpdate> Stream(ResolvedEndpoint resolved, InferenceRequest request, CancellationToken cancellationToken) =>
        resolved.Endpoint.TaskType == TaskType.Completion
            ? Require(resolved.Client.Completion, resolved).CompleteStreamingAsync(request.Input[0], null, cancellationToken)
            : Require(resolved.Client.ChatCompletion, resolved).GetStreamingResponseAsync(request.Chat!.Messages, request.Chat.Options, cancellationToken);

    /// <summary>
    /// Admits the request through the admission gates (rate limits, budgets) before it runs, with its tokens counted up
    /// front; throws the refusal (429, 402, ...) with its headers. The gates' headers (<c>x-ratelimit-*</c>, warnings) are
    /// set on the response at once, so both plain answers and streams carry them. Call once per request, after parsing.
    /// </summary>
    public async Task AdmitAsync(CallerIdentity caller, ResolvedEndpoint resolved, InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        ArgumentNullException.ThrowIfNull(request);
        var (input, output) = EstimateTokens(resolved, request);
        var admissionRequest = new AdmissionRequest(
            caller, resolved.Endpoint, ModelId(resolved) ?? resolved.Endpoint.InferenceId.Value, input, output,
            TokenBudgets.FromInputType(request.InputType == InputType.Ingest ? "ingest" : null), RequestId);
        _ticket = await admission.AdmitAsync(admissionRequest, cancellationToken);
        if (_surface is null && http.HttpContext?.Response is { HasStarted: false } response)
        {
            foreach (var (name, value) in _ticket.Headers)
            {
                response.Headers[name] = value;
            }
        }
    }

    /// <summary>
    /// Records the usage (never cancelled: a disconnected client's tokens count) and answers its cost; for a stream begun
    /// with <see cref="BeginStreamAsync"/> this is its final revision. <paramref name="failed"/>: ended by an error rather
    /// than by its client or deadline. Settles the admission ticket.
    /// </summary>
    public async Task<decimal> RecordAsync(CallerIdentity caller, ResolvedEndpoint resolved, UsageDetails usage, bool streamed, bool completed, bool failed = false)
    {
        var cost = await usageSink.RecordAsync(Usage(caller, resolved, usage, streamed, completed) with { Failed = failed && !completed }, CancellationToken.None);
        _ticket?.Settle(usage.InputTokens, usage.OutputTokens, cost);
        return cost;
    }

    /// <summary>
    /// Commits a stream's record (in progress, with the tokens so far) before its first byte; throws when the ledger cannot
    /// take it (the stream is then refused). The stream ends with <see cref="RecordAsync"/>.
    /// </summary>
    public Task BeginStreamAsync(CallerIdentity caller, ResolvedEndpoint resolved, UsageDetails usageSoFar) =>
        usageSink.BeginAsync(Usage(caller, resolved, usageSoFar, streamed: true, completed: false), CancellationToken.None).AsTask();

    /// <summary>Queues a checkpoint of a running stream's tokens without waiting for the database; the task never fails.</summary>
    public Task CheckpointStreamAsync(CallerIdentity caller, ResolvedEndpoint resolved, UsageDetails usageSoFar) =>
        usageSink.CheckpointAsync(Usage(caller, resolved, usageSoFar, streamed: true, completed: false));

    private InferenceUsage Usage(CallerIdentity caller, ResolvedEndpoint resolved, UsageDetails usage, bool streamed, bool completed) =>
        new(caller, resolved.Endpoint.InferenceId.Value, resolved.Endpoint.Service, resolved.Endpoint.TaskType,
            ModelId(resolved), usage.InputTokens, usage.OutputTokens, streamed, completed,
            _surface ?? (http.HttpContext?.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase) == true ? Surface.OpenAI : Surface.Inference),
            RequestId);

    /// <summary>A request that ends without a record did no billable work: what its admission reserved is given back.</summary>
    public void Dispose() => _ticket?.Release();

    /// <summary>Writes the usage headers (before the body starts).</summary>
    public static void WriteUsageHeaders(HttpResponse response, UsageDetails usage, decimal cost)
    {
        response.Headers[InputTokensHeader] = usage.InputTokens.ToString(CultureInfo.InvariantCulture);
        response.Headers[OutputTokensHeader] = usage.OutputTokens.ToString(CultureInfo.InvariantCulture);
        response.Headers[CostHeader] = cost.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The tokens a stream consumed so far: the final update's usage, the usage a cancelled generation reports, or (for
    /// clients that report neither) one output token per update.
    /// </summary>
    public static UsageDetails UsageSoFar(UsageDetails? reported, int updates, Exception? failure) =>
        reported ?? (failure as GenerationCanceledException)?.Usage ?? new UsageDetails(0, updates);

    /// <summary>The model name answers carry: the request's, else the endpoint's model, else the endpoint id.</summary>
    public static string ModelName(ResolvedEndpoint resolved, string? requested) =>
        !string.IsNullOrEmpty(requested) ? requested : ModelId(resolved) ?? resolved.Endpoint.InferenceId.Value;

    /// <summary>
    /// The tokens a request is admitted with: input tokens counted with the endpoint's own tokenizer where its client can
    /// (the embedded host's: embeddings with their input type's prefix, rerank as query-document pairs, chat as the
    /// conversation rendered with the model's template), else about four characters a token; and, for generation, the
    /// output cap as the estimate of output tokens (reconciled with the real count when the request ends).
    /// </summary>
    private static (long Input, long Output) EstimateTokens(ResolvedEndpoint resolved, InferenceRequest request)
    {
        var output = resolved.Endpoint.TaskType is TaskType.Completion or TaskType.ChatCompletion
            ? request.Chat?.Options.MaxOutputTokens ?? 256
            : 0;
        return (CountInputTokens(resolved, request) ?? EstimateFromCharacters(request), output);
    }

    private static long? CountInputTokens(ResolvedEndpoint resolved, InferenceRequest request)
    {
        var client = resolved.Client;
        try
        {
            return resolved.Endpoint.TaskType switch
            {
                TaskType.TextEmbedding => (client.TextEmbedding as IEmbeddingTokenCounter)?.CountInputTokens(request.Input, request.InputType),
                TaskType.SparseEmbedding => (client.SparseEmbedding as IEmbeddingTokenCounter)?.CountInputTokens(request.Input, request.InputType),
                TaskType.Rerank when request.Query is { } query => (client.Rerank as IRerankTokenCounter)?.CountInputTokens(query, request.Input),
                TaskType.Completion when request.Input.Count > 0 => (client.Completion as IPromptTokenCounter)?.CountPromptTokens(request.Input[0]),
                TaskType.ChatCompletion when request.Chat is { } chat => (client.ChatCompletion as IPromptTokenCounter)?.CountPromptTokens(chat.Messages),
                _ => null,
            };
        }
        catch (InferenceException)
        {
            // E.g. a model without a chat template: the request fails with that error when it runs; estimate meanwhile.
            return null;
        }
    }

    private static long EstimateFromCharacters(InferenceRequest request)
    {
        long characters = request.Input.Sum(static t => (long)t.Length) + (request.Query?.Length ?? 0)
            + (request.Chat?.Messages.Sum(static m => (long)m.Text.Length) ?? 0);
        return (characters + 3) / 4;
    }

    private static string? ModelId(ResolvedEndpoint resolved) => EndpointJson.ModelIdOf(resolved.Endpoint.ServiceSettings);

    private static JsonArray FloatArray(float[] vector)
    {
        var array = new JsonArray();
        foreach (var value in vector)
        {
            array.Add(value);
        }

        return array;
    }

    private static T Require<T>(T? client, ResolvedEndpoint resolved)
        where T : class =>
        client ?? throw InferenceApiException.BadRequest(
            $"The [{resolved.Endpoint.Service}] service cannot serve task type [{resolved.Endpoint.TaskType.ToWireName()}]");
}

/// <summary>The client's disconnect and the request's timeout as one token; <see cref="TimedOut"/> tells them apart.</summary>
internal sealed class RequestDeadline : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _aborted;

    public RequestDeadline(TimeSpan timeout, TimeProvider time, CancellationToken aborted)
    {
        _aborted = aborted;
        _timeout = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, _timeout.Token);
    }

    public CancellationToken Token => _linked.Token;

    /// <summary>Whether the timeout (not the client) ended the work.</summary>
    public bool TimedOut => _timeout.IsCancellationRequested && !_aborted.IsCancellationRequested;

    /// <summary>Stops the timer: a stream that has started runs until it ends or the client leaves.</summary>
    public void Disarm() => _timeout.CancelAfter(Timeout.InfiniteTimeSpan);

    /// <summary>Starts the timer again with another length (the default timeout depends on the endpoint's task type).</summary>
    public void Restart(TimeSpan timeout) => _timeout.CancelAfter(timeout);

    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}
