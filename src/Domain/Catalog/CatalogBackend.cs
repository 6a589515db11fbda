using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.Catalog;

/// <summary>What serves a catalog model.</summary>
public enum CatalogBackendKind
{
    /// <summary>A model of this installation's embedded host (built-in or from the model store).</summary>
    Embedded,

    /// <summary>A connection to an upstream provider, through one of the registered inference services, with the operator's credentials.</summary>
    Upstream,
}

/// <summary>
/// The backend the operator gave a catalog model of the managed service (<c>elastic</c>): either an embedded model or an
/// upstream connection, i.e. a service name with its settings. Secret settings are kept apart, already encrypted by the
/// caller, and are never shown. One backend per catalog model; assigning another replaces it.
/// </summary>
public sealed class CatalogBackend
{
    /// <summary>Longest service name (as an endpoint's).</summary>
    public const int ServiceMaxLength = InferenceEndpoint.ServiceMaxLength;

    private CatalogBackend()
    {
    }

    /// <summary>The catalog model served (<see cref="CatalogModel.Id"/>).</summary>
    public string CatalogModelId { get; private set; } = string.Empty;

    /// <summary>Embedded or upstream.</summary>
    public CatalogBackendKind Kind { get; private set; }

    /// <summary>The embedded model id; null for an upstream backend.</summary>
    public string? EmbeddedModelId { get; private set; }

    /// <summary>The upstream service's name, e.g. <c>openai</c>; null for an embedded backend.</summary>
    public string? UpstreamService { get; private set; }

    /// <summary>The upstream service settings without secrets (a JSON object); null for an embedded backend.</summary>
    public string? UpstreamServiceSettings { get; private set; }

    /// <summary>The upstream secret settings as one encrypted blob; null when there are none. Never shown.</summary>
    public string? UpstreamSecretSettings { get; private set; }

    /// <summary>The upstream task settings (a JSON object); null for an embedded backend.</summary>
    public string? UpstreamTaskSettings { get; private set; }

    /// <summary>When the backend was assigned (UTC); a new assignment is a new connection.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>A backend on an embedded model.</summary>
    public static CatalogBackend Embedded(string catalogModelId, string embeddedModelId, DateTimeOffset now)
    {
        var backend = new CatalogBackend { CatalogModelId = Guard.NotBlank(catalogModelId, "catalog_model_id", 128) };
        backend.UseEmbedded(embeddedModelId, now);
        return backend;
    }

    /// <summary>A backend on an upstream service.</summary>
    public static CatalogBackend Upstream(
        string catalogModelId, string service, string serviceSettings, string? secretSettings, string? taskSettings, DateTimeOffset now)
    {
        var backend = new CatalogBackend { CatalogModelId = Guard.NotBlank(catalogModelId, "catalog_model_id", 128) };
        backend.UseUpstream(service, serviceSettings, secretSettings, taskSettings, now);
        return backend;
    }

    /// <summary>Serves the model with an embedded model from now on (upstream settings and secrets are dropped).</summary>
    public void UseEmbedded(string embeddedModelId, DateTimeOffset now)
    {
        EmbeddedModelId = Guard.NotBlank(embeddedModelId, "embedded_model_id", 128);
        Kind = CatalogBackendKind.Embedded;
        UpstreamService = null;
        UpstreamServiceSettings = null;
        UpstreamSecretSettings = null;
        UpstreamTaskSettings = null;
        UpdatedAt = Guard.Utc(now);
    }

    /// <summary>Serves the model through an upstream service from now on.</summary>
    public void UseUpstream(string service, string serviceSettings, string? secretSettings, string? taskSettings, DateTimeOffset now)
    {
        UpstreamService = Guard.NotBlank(service, "service", ServiceMaxLength);
        UpstreamServiceSettings = Guard.JsonObject(serviceSettings, "service_settings");
        UpstreamSecretSettings = string.IsNullOrEmpty(secretSettings) ? null : secretSettings;
        UpstreamTaskSettings = Guard.JsonObject(taskSettings, "task_settings");
        Kind = CatalogBackendKind.Upstream;
        EmbeddedModelId = null;
        UpdatedAt = Guard.Utc(now);
    }
}
