using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Saved playground conversations that talk to the endpoint reference it (kind <c>conversations</c>).</summary>
public sealed class ConversationEndpointReferences(WebConsoleDbContext db) : IEndpointReferenceSource
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<EndpointReference>> FindReferencesAsync(Guid organizationId, string inferenceId, CancellationToken cancellationToken)
    {
        var titles = await db.Conversations
            .Where(c => c.OrganizationId == organizationId && c.InferenceId == inferenceId)
            .Select(c => c.Title)
            .ToListAsync(cancellationToken);
        return [.. titles.Order(StringComparer.Ordinal).Select(t => new EndpointReference("conversations", t))];
    }
}
