using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Playground;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Playground;

/// <summary>What the playground saves of a conversation: the system prompt, the parameters and the messages.</summary>
public sealed record ConversationContent
{
    /// <summary>The system prompt (empty for none).</summary>
    public string SystemPrompt { get; init; } = string.Empty;

    /// <summary>The messages after the system prompt, oldest first.</summary>
    public IReadOnlyList<ChatStreamMessage> Messages { get; init; } = [];

    /// <summary>The parameters (the request without endpoint and messages).</summary>
    public ChatStreamRequest Parameters { get; init; } = new();
}

/// <summary>A saved conversation as the playground lists and opens it.</summary>
public sealed record SavedConversation(Guid Id, string InferenceId, string Title, DateTimeOffset UpdatedAt, ConversationContent Content);

/// <summary>
/// The signed-in user's saved conversations: only their own, in their organization (each operation runs in a scope pinned
/// to the caller, so the tenant filter applies too). Singleton; thread-safe.
/// </summary>
internal sealed class ConversationStore(IServiceScopeFactory scopes, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<SavedConversation>> ListAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        var user = UserOf(caller);
        await using var scope = scopes.CreateCallerScope(caller);
        var db = scope.ServiceProvider.GetRequiredService<WebConsoleDbContext>();
        var rows = await db.Conversations.AsNoTracking().Where(c => c.UserId == user).ToListAsync(cancellationToken);
        return [.. rows.OrderByDescending(c => c.UpdatedAt).Select(ToSaved)];
    }

    /// <summary>Saves a new conversation (<paramref name="id"/> null) or the user's existing one; answers its id.</summary>
    public async Task<Guid> SaveAsync(CallerIdentity caller, Guid? id, string inferenceId, string title, ConversationContent content, CancellationToken cancellationToken)
    {
        var user = UserOf(caller);
        await using var scope = scopes.CreateCallerScope(caller);
        var db = scope.ServiceProvider.GetRequiredService<WebConsoleDbContext>();
        var text = JsonSerializer.Serialize(content, Json);
        var existing = id is { } key ? await db.Conversations.SingleOrDefaultAsync(c => c.Id == key && c.UserId == user, cancellationToken) : null;
        if (existing is null)
        {
            existing = Conversation.Create(caller.OrganizationId, user, inferenceId, title, text, time.GetUtcNow());
            db.Conversations.Add(existing);
        }
        else
        {
            existing.Update(inferenceId, title, text, time.GetUtcNow());
        }

        await db.SaveChangesAsync(cancellationToken);
        return existing.Id;
    }

    public async Task<bool> DeleteAsync(CallerIdentity caller, Guid id, CancellationToken cancellationToken)
    {
        var user = UserOf(caller);
        await using var scope = scopes.CreateCallerScope(caller);
        var db = scope.ServiceProvider.GetRequiredService<WebConsoleDbContext>();
        return await db.Conversations.Where(c => c.Id == id && c.UserId == user).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    private static Guid UserOf(CallerIdentity caller) =>
        caller.UserId ?? throw new InvalidOperationException("Conversations are saved for portal users only.");

    private static SavedConversation ToSaved(Conversation row) =>
        new(row.Id, row.InferenceId, row.Title, row.UpdatedAt, JsonSerializer.Deserialize<ConversationContent>(row.Content, Json) ?? new ConversationContent());
}

/// <summary>Registration of the playground's services.</summary>
internal static class PlaygroundRegistration
{
    public static IServiceCollection AddPlayground(this IServiceCollection services) => services.AddSingleton<ConversationStore>();
}
