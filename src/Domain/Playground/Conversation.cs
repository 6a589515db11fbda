namespace WebConsole.Domain.Playground;

/// <summary>
/// A playground conversation a portal user saved: the endpoint it talks to, a title, and its content (system prompt,
/// parameters and messages as one JSON document the playground owns). It refers to its endpoint by id, so it counts as a
/// reference of that endpoint (deleting the endpoint without <c>force</c> is refused while it exists). Only its owner
/// lists and opens it.
/// </summary>
public sealed class Conversation
{
    /// <summary>Longest title kept; longer ones are cut, since the first prompt usually names the conversation.</summary>
    public const int TitleMaxLength = 200;

    /// <summary>Longest endpoint id (as <c>InferenceEndpoint</c> stores it).</summary>
    public const int InferenceIdMaxLength = 256;

    /// <summary>Largest content accepted, in characters.</summary>
    public const int ContentMaxLength = 512 * 1024;

    private Conversation()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The organization the conversation (and its endpoint) belongs to.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The portal user who saved it.</summary>
    public Guid UserId { get; private set; }

    /// <summary>The endpoint it talks to.</summary>
    public string InferenceId { get; private set; } = string.Empty;

    /// <summary>What the list shows.</summary>
    public string Title { get; private set; } = string.Empty;

    /// <summary>The system prompt, parameters and messages, as the playground's JSON document.</summary>
    public string Content { get; private set; } = "{}";

    /// <summary>When it was first saved (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When it was last saved (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>A new conversation of <paramref name="userId"/> in <paramref name="organizationId"/>.</summary>
    public static Conversation Create(Guid organizationId, Guid userId, string inferenceId, string title, string content, DateTimeOffset now)
    {
        var conversation = new Conversation
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            UserId = Guard.NotEmpty(userId, "user_id"),
            CreatedAt = Guard.Utc(now),
        };
        conversation.Update(inferenceId, title, content, now);
        return conversation;
    }

    /// <summary>Saves a new state: its endpoint (the playground may switch it), title and content.</summary>
    public void Update(string inferenceId, string title, string content, DateTimeOffset now)
    {
        InferenceId = Guard.NotBlank(inferenceId, "inference_id", InferenceIdMaxLength);
        var trimmed = string.IsNullOrWhiteSpace(title) ? "Untitled" : title.Trim();
        Title = trimmed.Length > TitleMaxLength ? trimmed[..TitleMaxLength] : trimmed;
        Content = Guard.JsonObject(content, "content");
        if (Content.Length > ContentMaxLength)
        {
            throw new DomainValidationException($"[content] must be at most {ContentMaxLength} characters");
        }

        UpdatedAt = Guard.Utc(now);
    }
}
