using WebConsole.Domain.Chunking;

namespace WebConsole.Domain.Endpoints;

/// <summary>
/// An organization's inference endpoint: a task type served by a service with its settings. Settings documents are
/// kept as JSON text here; typed per-service settings are parsed from them at the boundary.
/// </summary>
public sealed class InferenceEndpoint
{
    /// <summary>Longest service name accepted.</summary>
    public const int ServiceMaxLength = 64;

    private InferenceEndpoint()
    {
    }

    /// <summary>Identifier (storage key; clients address endpoints by <see cref="InferenceId"/>).</summary>
    public Guid Id { get; private set; }

    /// <summary>The owning organization; inference ids are unique within it.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The id clients use in <c>/_inference/{inference_id}</c>.</summary>
    public InferenceId InferenceId { get; private set; }

    /// <summary>The task type.</summary>
    public TaskType TaskType { get; private set; }

    /// <summary>The service name, e.g. <c>elasticsearch</c>, <c>elastic</c>, <c>openai</c>.</summary>
    public string Service { get; private set; } = string.Empty;

    /// <summary>Non-secret service settings, a JSON object.</summary>
    public string ServiceSettings { get; private set; } = "{}";

    /// <summary>Secret settings (API keys) as an opaque encrypted blob; never shown to clients. Null when none.</summary>
    public string? SecretSettings { get; private set; }

    /// <summary>Task settings, a JSON object.</summary>
    public string TaskSettings { get; private set; } = "{}";

    /// <summary>Chunking settings; null for task types that do not chunk and none were given.</summary>
    public ChunkingSettings? ChunkingSettings { get; private set; }

    /// <summary>Whether this is a built-in endpoint users cannot create, change in kind, or delete.</summary>
    public bool IsReserved { get; private set; }

    /// <summary>When the endpoint was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the endpoint last changed (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>
    /// Creates a user endpoint. A reserved id is refused with Elasticsearch's message. Without chunking settings an
    /// embedding endpoint gets the defaults (sentence, 250, 1).
    /// </summary>
    public static InferenceEndpoint Create(
        Guid id,
        Guid organizationId,
        InferenceId inferenceId,
        TaskType taskType,
        string service,
        string serviceSettings,
        string? secretSettings,
        string? taskSettings,
        ChunkingSettings? chunkingSettings,
        DateTimeOffset now)
    {
        if (inferenceId.IsReserved)
        {
            throw new DomainValidationException(
                $"[{inferenceId}] is a reserved inference ID. Cannot create a new inference endpoint with a reserved ID.");
        }

        return Build(id, organizationId, inferenceId, taskType, service, serviceSettings, secretSettings, taskSettings, chunkingSettings, reserved: false, now);
    }

    /// <summary>Creates one of the built-in (reserved) endpoints; its id must start with a dot.</summary>
    public static InferenceEndpoint CreateReserved(
        Guid id,
        Guid organizationId,
        InferenceId inferenceId,
        TaskType taskType,
        string service,
        string serviceSettings,
        string? taskSettings,
        ChunkingSettings? chunkingSettings,
        DateTimeOffset now)
    {
        if (!inferenceId.IsReserved)
        {
            throw new DomainValidationException($"[{inferenceId}] is not a reserved inference ID; reserved IDs start with '.'");
        }

        return Build(id, organizationId, inferenceId, taskType, service, serviceSettings, null, taskSettings, chunkingSettings, reserved: true, now);
    }

    private static InferenceEndpoint Build(
        Guid id,
        Guid organizationId,
        InferenceId inferenceId,
        TaskType taskType,
        string service,
        string serviceSettings,
        string? secretSettings,
        string? taskSettings,
        ChunkingSettings? chunkingSettings,
        bool reserved,
        DateTimeOffset now)
    {
        if (inferenceId.Value is null)
        {
            throw new DomainValidationException("[inference_id] must not be empty");
        }

        if (!Enum.IsDefined(taskType))
        {
            throw new DomainValidationException($"Unknown task_type [{taskType}]");
        }

        if (string.IsNullOrWhiteSpace(service))
        {
            throw new DomainValidationException("Inference endpoint configuration is missing the [service] setting");
        }

        return new InferenceEndpoint
        {
            Id = Guard.NotEmpty(id, "id"),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            InferenceId = inferenceId,
            TaskType = taskType,
            Service = Guard.NotBlank(service, "service", ServiceMaxLength),
            ServiceSettings = Guard.JsonObject(serviceSettings, "service_settings"),
            SecretSettings = string.IsNullOrEmpty(secretSettings) ? null : secretSettings,
            TaskSettings = Guard.JsonObject(taskSettings, "task_settings"),
            ChunkingSettings = chunkingSettings ?? (taskType.SupportsChunking() ? Chunking.ChunkingSettings.Default : null),
            IsReserved = reserved,
            CreatedAt = Guard.Utc(now),
            UpdatedAt = Guard.Utc(now),
        };
    }

    /// <summary>Replaces the task settings (a JSON object).</summary>
    public void UpdateTaskSettings(string? taskSettings, DateTimeOffset now)
    {
        TaskSettings = Guard.JsonObject(taskSettings, "task_settings");
        Touch(now);
    }

    /// <summary>Replaces the chunking settings.</summary>
    public void UpdateChunkingSettings(ChunkingSettings chunkingSettings, DateTimeOffset now)
    {
        ChunkingSettings = chunkingSettings;
        Touch(now);
    }

    /// <summary>Replaces the non-secret service settings (the caller has checked which keys may change).</summary>
    public void UpdateServiceSettings(string serviceSettings, DateTimeOffset now)
    {
        ServiceSettings = Guard.JsonObject(serviceSettings, "service_settings");
        Touch(now);
    }

    /// <summary>Replaces the encrypted secret settings.</summary>
    public void UpdateSecretSettings(string? secretSettings, DateTimeOffset now)
    {
        SecretSettings = string.IsNullOrEmpty(secretSettings) ? null : secretSettings;
        Touch(now);
    }

    /// <summary>Throws Elasticsearch's message when the endpoint is reserved and so cannot be deleted.</summary>
    public void EnsureDeletable()
    {
        if (IsReserved)
        {
            throw new DomainValidationException(
                $"[{InferenceId}] is a reserved inference endpoint. Cannot delete a reserved inference endpoint.");
        }
    }

    /// <summary>Throws Elasticsearch's message when a request names another task type than the endpoint's.</summary>
    public void EnsureTaskType(TaskType requested)
    {
        if (requested != TaskType)
        {
            throw new DomainValidationException(
                $"Requested task type [{requested.ToWireName()}] does not match the inference endpoint's task type [{TaskType.ToWireName()}]");
        }
    }

    private void Touch(DateTimeOffset now)
    {
        var utc = Guard.Utc(now);
        UpdatedAt = utc > UpdatedAt ? utc : UpdatedAt;
    }
}
