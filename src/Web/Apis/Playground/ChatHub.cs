using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
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

    /// <summary>The answer's deltas, then one item with the usage and cost.</summary>
    public async IAsyncEnumerable<ChatStreamChunk> StreamChat(ChatStreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var caller = Context.User?.GetCaller() ?? throw Error(new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate));
        if (request is null)
        {
            throw Error(InferenceApiException.BadRequest("the request must not be null"));
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

    private static HubException Error(InferenceApiException error) =>
        new(new ChatStreamError(error.Status, error.Type, error.Reason).ToJson(), error);
}

/// <summary>Registration and route of the chat hub.</summary>
internal static class ChatHubRegistration
{
    public static IServiceCollection AddChatHub(this IServiceCollection services)
    {
        services.AddSignalR();
        services.AddSingleton<ChatStreaming>();
        return services;
    }

    public static IEndpointRouteBuilder MapChatHub(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<ChatHub>(ChatHub.Path);
        return endpoints;
    }
}
