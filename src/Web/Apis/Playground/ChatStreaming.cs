using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Inference;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Playground;

/// <summary>
/// One chat stream for the chat hub and the playground page, on the same path as <c>/_inference/.../_stream</c>: the
/// request is parsed with the REST surfaces' parser and limits, resolved, admitted (rate limits, budgets), run and billed
/// by <see cref="InferenceRunner"/> and <see cref="GenerationStreamer"/> (usage committed before the first item,
/// checkpointed, revised at the end). Each stream runs in a scope of its own pinned to its caller (one runner, one request
/// id, one database context per stream, so compare mode can run two at once). Cancelling the token stops the generation
/// at once (which frees its allocation) and bills the tokens produced. Errors are <see cref="InferenceApiException"/>s.
/// Singleton; thread-safe.
/// </summary>
internal sealed class ChatStreaming(IServiceScopeFactory scopes)
{
    private static readonly HashSet<string> ChatKeys = new(StringComparer.Ordinal)
    {
        "messages", "max_completion_tokens", "stop", "temperature", "top_p", "seed",
    };

    /// <summary>Streams the answer of <paramref name="request"/> for <paramref name="caller"/>, recorded under <paramref name="surface"/>.</summary>
    public async IAsyncEnumerable<ChatStreamChunk> StreamAsync(
        CallerIdentity caller, ChatStreamRequest request, Surface surface, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);

        // The generation pushes its items (GenerationStreamer writes through callbacks); the channel turns them into a pull.
        var channel = Channel.CreateUnbounded<ChatStreamChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() => ProduceAsync(caller, request, surface, channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var chunk in channel.Reader.ReadAllAsync(CancellationToken.None))
            {
                yield return chunk;
            }
        }
        finally
        {
            // A consumer that stops reading (or is cancelled) stops the generation; the usage is recorded before this returns.
            await stop.CancelAsync();
            await producer;
        }
    }

    private async Task ProduceAsync(CallerIdentity caller, ChatStreamRequest request, Surface surface, ChannelWriter<ChatStreamChunk> writer, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateCallerScope(caller);
            var runner = scope.ServiceProvider.GetRequiredService<InferenceRunner>();
            runner.UseSurface(surface);
            using var deadline = new RequestDeadline(TimeSpan.FromSeconds(120), runner.Time, cancellationToken);
            ResolvedEndpoint resolved;
            try
            {
                resolved = await runner.ResolveAsync(caller, request.InferenceId, null, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }

            var taskType = resolved.Endpoint.TaskType;
            if (taskType is not (TaskType.Completion or TaskType.ChatCompletion))
            {
                throw InferenceApiException.BadRequest(
                    $"The playground streams completion and chat_completion endpoints; [{request.InferenceId}] is a [{taskType.ToWireName()}] endpoint");
            }

            if (!resolved.Service.SupportsStreaming(taskType))
            {
                throw InferenceApiException.StreamingNotAllowed(resolved.Endpoint.Service, taskType.ToWireName());
            }

            var parsed = taskType == TaskType.ChatCompletion
                ? new InferenceRequest([], null, InputType.Unspecified, [], null, true, InferenceRequests.ParseChat(ChatBody(request), ChatKeys, runner.Limits))
                : InferenceRequests.ParsePerform(new JsonObject { ["input"] = CompletionInput(request) }, taskType, runner.Limits);
            await runner.AdmitAsync(caller, resolved, parsed, deadline.Token);
            var model = InferenceRunner.ModelName(resolved, null);
            var streamer = new GenerationStreamer(runner, caller, resolved, deadline);
            await streamer.RunAsync(
                new Opening(),
                InferenceRunner.Stream(resolved, parsed, deadline.Token),
                async (update, first, ct) => await writer.WriteAsync(new ChatStreamChunk
                {
                    Delta = update.Text,
                    Model = first ? model : null,
                    FinishReason = update.FinishReason is { } finish ? ChatShapes.FinishReasonName(finish) : null,
                }, ct),
                async (usage, cost, ct) => await writer.WriteAsync(new ChatStreamChunk { Usage = new ChatStreamUsage(usage.InputTokens, usage.OutputTokens, cost) }, ct),
                (error, _) =>
                {
                    writer.TryComplete(error);
                    return Task.CompletedTask;
                });
            // A stream its client stopped ends with what was billed for it (the page shows it; a hub client has left).
            if (cancellationToken.IsCancellationRequested && streamer.Recorded is { } billed)
            {
                writer.TryWrite(new ChatStreamChunk
                {
                    FinishReason = ChatStreamChunk.Cancelled,
                    Usage = new ChatStreamUsage(billed.Usage.InputTokens, billed.Usage.OutputTokens, billed.Cost),
                });
            }

            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(InferenceApiException.From(ex) ?? ex);
        }
    }

    /// <summary>The chat_completion body of the REST surfaces for this request (what "view code" shows too).</summary>
    public static JsonObject ChatBody(ChatStreamRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new JsonObject
        {
            ["messages"] = new JsonArray([.. request.Messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
        };
        if (request.MaxCompletionTokens is { } max)
        {
            body["max_completion_tokens"] = max;
        }

        if (request.Temperature is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (request.TopP is { } topP)
        {
            body["top_p"] = topP;
        }

        if (request.Stop is { Count: > 0 } stop)
        {
            body["stop"] = new JsonArray([.. stop.Select(s => (JsonNode?)JsonValue.Create(s))]);
        }

        if (request.Seed is { } seed)
        {
            body["seed"] = seed;
        }

        return body;
    }

    /// <summary>A completion endpoint's input: the last user message, after the system prompt when there is one.</summary>
    public static string CompletionInput(ChatStreamRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var last = request.Messages.LastOrDefault(m => m.Role == "user")?.Content
            ?? throw InferenceApiException.BadRequest("Field [messages] must contain a [user] message");
        var system = request.Messages.FirstOrDefault(m => m.Role == "system")?.Content;
        return string.IsNullOrWhiteSpace(system) ? last : $"{system}\n\n{last}";
    }

    // A hub or circuit stream is committed to its client by its first item; nothing is sent before.
    private sealed class Opening : IStreamOpening
    {
        public bool Started { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }
    }
}
