using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Inference;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Playground;

/// <summary>
/// <c>/hubs/chat</c>: streams the answer of a completion or chat_completion endpoint item by item
/// (<see cref="StreamChat"/>), on the REST surfaces' path, limits and billing (<see cref="ChatStreaming"/>).
/// Authenticated by the portal cookie or an API key (<c>Authorization: ApiKey|Bearer</c>, or the <c>access_token</c>
/// query the browser client sends on WebSockets); needs <c>monitor_inference</c>. A client that cancels the stream stops
/// the generation at once and is billed for the tokens produced. Errors arrive as <see cref="HubException"/>s whose
/// message carries the REST surfaces' status, type and reason as JSON (<see cref="ChatStreamError"/>).
/// </summary>
[Authorize(Policy = Policies.MonitorInference)]
internal sealed class ChatHub(ChatStreaming streaming) : Hub
{
    /// <summary>The hub's route.</summary>
    public const string Path = "/hubs/chat";

    /// <summary>
    /// The answer's deltas, then one item with the usage and cost. <paramref name="body"/> is a
    /// <see cref="ChatStreamRequest"/> as JSON, read here (not bound by SignalR) so that wrong types and unknown fields get
    /// the typed 400 every other mistake gets.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamChunk> StreamChat(JsonElement body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var caller = Context.User?.GetCaller() ?? throw Error(new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate));
        ChatStreamRequest request;
        try
        {
            request = ChatStreamRequest.Read(body);
        }
        catch (InferenceApiException ex)
        {
            throw Error(ex);
        }

        await using var stream = streaming.StreamAsync(caller, request, Surface.Hub, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            ChatStreamChunk chunk;
            try
            {
                if (!await stream.MoveNextAsync())
                {
                    yield break;
                }

                chunk = stream.Current;
            }
            catch (InferenceApiException ex)
            {
                throw Error(ex);
            }

            yield return chunk;
        }
    }

    // Without the inner exception: SignalR logs the error it sends, and the JSON form escapes control characters that a
    // reason may echo from the request (an id with terminal escapes must not reach the log raw).
    private static HubException Error(InferenceApiException error) =>
        new(new ChatStreamError(error.Status, error.Type, error.Reason).ToJson());
}

/// <summary>Registration and route of the chat hub.</summary>
internal static class ChatHubRegistration
{
    public static IServiceCollection AddChatHub(this IServiceCollection services)
    {
        // A hub message may be as large as an inference request body (long pasted prompts); beyond it SignalR closes the
        // connection, as Kestrel answers 413 on the REST surfaces.
        // AddHubOptions makes this hub use its own options (copied from the global ones, which Blazor's circuits keep).
        services.AddSignalR().AddHubOptions<ChatHub>(static _ => { });
        services.AddOptions<HubOptions<ChatHub>>()
            .Configure<IOptions<InferenceApiOptions>>((hub, api) => hub.MaximumReceiveMessageSize = api.Value.MaxRequestBodyBytes);
        services.AddSingleton<ChatStreaming>();
        return services;
    }

    public static IEndpointRouteBuilder MapChatHub(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<ChatHub>(ChatHub.Path);
        return endpoints;
    }
}
