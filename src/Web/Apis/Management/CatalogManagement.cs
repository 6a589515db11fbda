using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Models;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Models;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Web.Apis.Management;

/// <summary>What serves a catalog model, without secrets: the names of the secret fields at most.</summary>
/// <param name="Kind"><c>embedded</c> or <c>upstream</c>.</param>
/// <param name="Assigned">Whether an operator assigned it (false: the catalog row is itself a model of this installation).</param>
/// <param name="EmbeddedModelId">The embedded model; null for upstream.</param>
/// <param name="Service">The upstream service; null for embedded.</param>
/// <param name="ServiceSettings">The upstream settings without secrets (operators only; null otherwise).</param>
/// <param name="TaskSettings">The upstream task settings (operators only; null otherwise).</param>
/// <param name="SecretFields">The names of the stored secret fields (operators only; empty otherwise).</param>
/// <param name="UpdatedAt">When it was assigned; null when not assigned.</param>
public sealed record CatalogBackendView(
    string Kind, bool Assigned, string? EmbeddedModelId, string? Service, JsonObject? ServiceSettings, JsonObject? TaskSettings,
    IReadOnlyList<string> SecretFields, DateTimeOffset? UpdatedAt);

/// <summary>A catalog model as the API and the portal show it.</summary>
/// <param name="Model">The catalog row.</param>
/// <param name="Backend">What serves it; null when nothing does (creating an endpoint on it is a 400).</param>
/// <param name="EndOfLife">Whether its EOL date has come: it serves nothing.</param>
/// <param name="EolWarning">Whether the EOL date is within 90 days.</param>
/// <param name="DaysUntilEol">Days left until the EOL date (0 or less when reached); null when none is announced.</param>
public sealed record CatalogModelView(CatalogModel Model, CatalogBackendView? Backend, bool EndOfLife, bool EolWarning, int? DaysUntilEol);

/// <summary>An upstream backend as an operator submits it.</summary>
/// <param name="Service">A registered service, e.g. <c>openai</c>.</param>
/// <param name="ServiceSettings">Its service settings, secrets included.</param>
/// <param name="TaskSettings">Its task settings; null for none.</param>
public sealed record UpstreamBackendInput(string? Service, JsonObject? ServiceSettings, JsonObject? TaskSettings);

/// <summary>
/// The managed service's catalog behind <c>/api/catalog</c> and the portal's Catalog page: every model with its EOL state
/// and backend; platform operators assign each model an embedded model or an upstream service with their credentials,
/// validated by that service, and remove it. Credentials are encrypted at rest and never shown, not even to operators.
/// A change commits with its audit row and applies to the next request on this node (others within
/// <see cref="ManagedCatalog.RefreshInterval"/>). Scoped.
/// </summary>
public sealed class CatalogManagement(
    ManagedCatalog catalog,
    ISystemDbContextFactory contexts,
    IInferenceServiceRegistry services,
    BuiltInModels builtIns,
    ModelRegistry models,
    CatalogBackendSecrets secrets,
    IAuditLog audit,
    TimeProvider time,
    ILogger<CatalogManagement> log)
{
    private const string ResourceType = "catalog_model";

    /// <summary>How long assigning an upstream backend waits for its service to get ready (credentials checked, model fetched).</summary>
    public static readonly TimeSpan PrepareTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Every catalog model, sorted by author then name.</summary>
    public async Task<IReadOnlyList<CatalogModelView>> ListAsync(CallerIdentity caller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var entries = await catalog.ListAsync(ct);
        return [.. entries
            .Select(e => View(e, caller.IsPlatformOperator))
            .OrderBy(v => v.Model.Author, StringComparer.OrdinalIgnoreCase)
            .ThenBy(v => v.Model.Name, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>One catalog model.</summary>
    /// <exception cref="ResourceNotFoundException">No such catalog model.</exception>
    public async Task<CatalogModelView> GetAsync(CallerIdentity caller, string catalogId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return View(await RequireAsync(catalogId, ct), caller.IsPlatformOperator);
    }

    /// <summary>The services an upstream backend of <paramref name="taskType"/> may use, with their <c>_services</c> schema.</summary>
    public IReadOnlyList<IInferenceService> UpstreamServices(TaskType taskType) =>
        [.. services.All.Where(s => s.SupportedTaskTypes.Contains(taskType))];

    /// <summary>Serves the catalog model with an embedded model of this installation from now on.</summary>
    /// <exception cref="DomainValidationException">No such embedded model, or it cannot serve the catalog model's task type.</exception>
    public async Task<CatalogModelView> AssignEmbeddedAsync(CallerIdentity caller, string catalogId, string? embeddedModelId, CancellationToken ct = default)
    {
        EnsureOperator(caller);
        var entry = await RequireAsync(catalogId, ct);
        if (string.IsNullOrWhiteSpace(embeddedModelId))
        {
            throw new DomainValidationException("[embedded_model_id] must not be empty");
        }

        var modelId = embeddedModelId.Trim();
        var modelTask = ElasticInferenceService.EmbeddedTaskType(builtIns, models, modelId)
            ?? throw new DomainValidationException($"[embedded_model_id] Model [{modelId}] is not a built-in or imported model of this installation");
        if (!ElasticInferenceService.Serves(modelTask, entry.Model.TaskType))
        {
            throw new DomainValidationException(
                $"[embedded_model_id] Model [{modelId}] serves [{modelTask.ToWireName()}], not the catalog model's task type [{entry.Model.TaskType.ToWireName()}]");
        }

        var previous = entry.Backend;
        var view = await SaveAsync(caller, entry, (backend, now) =>
        {
            if (backend is null)
            {
                return CatalogBackend.Embedded(entry.Model.Id, modelId, now);
            }

            backend.UseEmbedded(modelId, now);
            return backend;
        }, $"kind=embedded model={modelId}", ct);
        await StopOwnDeploymentAsync(previous, entry.Model.TaskType, keep: null);
        return view;
    }

    /// <summary>
    /// Serves the catalog model through an upstream service with the operator's settings from now on: the service parses
    /// and checks them as it would a tenant's endpoint (400 naming the field), and gets ready (credentials checked) within
    /// <see cref="PrepareTimeout"/>. The secret fields are stored encrypted and never shown; given the same service again, a
    /// secret left out keeps its stored value.
    /// </summary>
    /// <exception cref="DomainValidationException">The service or its settings are invalid.</exception>
    public async Task<CatalogModelView> AssignUpstreamAsync(CallerIdentity caller, string catalogId, UpstreamBackendInput input, CancellationToken ct = default)
    {
        EnsureOperator(caller);
        ArgumentNullException.ThrowIfNull(input);
        var entry = await RequireAsync(catalogId, ct);
        var taskType = entry.Model.TaskType;
        if (string.IsNullOrWhiteSpace(input.Service))
        {
            throw new DomainValidationException("[service] must name the upstream service, or give [embedded_model_id] instead");
        }

        var service = services.Find(input.Service.Trim())
            ?? throw new DomainValidationException($"[service] Unknown service [{input.Service}]");
        var serviceSettings = input.ServiceSettings ?? [];
        if (service.Name == ElasticInferenceService.ServiceName && !serviceSettings.ContainsKey("url"))
        {
            throw new DomainValidationException(
                "[service] The [elastic] service on this installation cannot be a catalog model's backend; name an embedded model, or another WebConsole with [url]");
        }

        if (!service.SupportedTaskTypes.Contains(taskType))
        {
            throw new DomainValidationException($"[service] The [{service.Name}] service does not support task type [{taskType.ToWireName()}]");
        }

        // Re-assigning the same service may leave a secret out to keep the stored one (the portal cannot show it to edit).
        var secretFields = service.SecretFields
            .Concat(service.Configuration.Fields.Where(f => f.Value.Sensitive).Select(f => f.Key))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        serviceSettings = serviceSettings.DeepClone().AsObject();
        if (entry.Backend is { Kind: CatalogBackendKind.Upstream, UpstreamSecretSettings: { } storedSecrets } same && same.UpstreamService == service.Name)
        {
            foreach (var (name, value) in secrets.Merge(null, storedSecrets).Where(p => secretFields.Contains(p.Key) && !serviceSettings.ContainsKey(p.Key)).ToList())
            {
                serviceSettings[name] = value?.DeepClone();
            }
        }

        EndpointSettings settings;
        try
        {
            settings = service.Parse(taskType, serviceSettings, input.TaskSettings);
            service.ValidateNew(settings);
        }
        catch (InferenceApiException ex)
        {
            throw new DomainValidationException(ex.Reason, ex);
        }

        settings = await CompleteAsync(service, settings, entry.Model.Id, ct);

        var (stored, protectedSecrets) = secrets.Split(settings.ToServiceSettings(), secretFields);
        var previous = entry.Backend;
        var view = await SaveAsync(caller, entry, (backend, now) =>
        {
            if (backend is null)
            {
                return CatalogBackend.Upstream(entry.Model.Id, service.Name, stored.ToJsonString(), protectedSecrets, settings.TaskSettings.ToJsonString(), now);
            }

            backend.UseUpstream(service.Name, stored.ToJsonString(), protectedSecrets, settings.TaskSettings.ToJsonString(), now);
            return backend;
        }, $"kind=upstream service={service.Name} settings={string.Join(",", settings.ToServiceSettings().Select(p => p.Key).Order(StringComparer.Ordinal))}", ct);
        var keep = catalog.Find(entry.Model.Id)?.Backend is { } current
            ? service.OwnDeploymentOf(ElasticInferenceService.BackendEndpoint(current, taskType), settings)
            : null;
        await StopOwnDeploymentAsync(previous, taskType, keep);
        return view;
    }

    /// <summary>Removes the catalog model's backend: new endpoints on it are refused, existing ones answer 503 until another is assigned.</summary>
    /// <exception cref="ResourceNotFoundException">No such catalog model, or it has no backend.</exception>
    public async Task RemoveBackendAsync(CallerIdentity caller, string catalogId, CancellationToken ct = default)
    {
        EnsureOperator(caller);
        var entry = await RequireAsync(catalogId, ct);
        await using (var db = contexts.CreateDbContext())
        {
            var backend = await db.CatalogBackends.SingleOrDefaultAsync(b => b.CatalogModelId == entry.Model.Id, ct)
                ?? throw new ResourceNotFoundException($"Catalog model [{entry.Model.Id}] has no backend");
            db.CatalogBackends.Remove(backend);
            audit.Append(db, caller.OrganizationId, caller, "catalog.backend.remove", ResourceType, entry.Model.Id, $"kind={Wire(backend.Kind)}");
            await db.SaveChangesAsync(ct);
        }

        await catalog.ReloadAsync(ct);
        await StopOwnDeploymentAsync(entry.Backend, entry.Model.TaskType, keep: null);
    }

    /// <summary>The view of one entry (what a caller may see of its backend).</summary>
    public CatalogModelView View(CatalogEntry entry, bool operatorView)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var today = catalog.Today;
        var model = entry.Model;
        return new CatalogModelView(
            model, BackendView(entry, operatorView), model.IsEndOfLife(today), model.IsEolSoon(today),
            model.EolDate is { } eol ? eol.DayNumber - today.DayNumber : null);
    }

    private CatalogBackendView? BackendView(CatalogEntry entry, bool operatorView)
    {
        if (entry.Backend is not { } backend)
        {
            return ElasticInferenceService.EmbeddedTaskType(builtIns, models, entry.Model.Id) is null
                ? null
                : new CatalogBackendView("embedded", false, entry.Model.Id, null, null, null, [], null);
        }

        if (backend.Kind == CatalogBackendKind.Embedded)
        {
            return new CatalogBackendView("embedded", true, backend.EmbeddedModelId, null, null, null, [], backend.UpdatedAt);
        }

        if (!operatorView)
        {
            return new CatalogBackendView("upstream", true, null, backend.UpstreamService, null, null, [], backend.UpdatedAt);
        }

        // Only the names of the secret fields: reading the blob would mean decrypting it, which a view never needs.
        var secretFields = services.Find(backend.UpstreamService!) is { } service
            ? service.SecretFields.Concat(service.Configuration.Fields.Where(f => f.Value.Sensitive).Select(f => f.Key)).Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal).ToArray()
            : [];
        return new CatalogBackendView(
            "upstream", true, null, backend.UpstreamService, EndpointJson.ParseObject(backend.UpstreamServiceSettings),
            EndpointJson.ParseObject(backend.UpstreamTaskSettings), backend.UpstreamSecretSettings is null ? [] : secretFields, backend.UpdatedAt);
    }

    // The checks a tenant's new endpoint gets from its service (credentials, a probe that completes the settings, e.g.
    // with the dimensions), then its preparation (a model fetched), within PrepareTimeout; a failure stores nothing.
    private static async Task<EndpointSettings> CompleteAsync(IInferenceService service, EndpointSettings settings, string catalogId, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(PrepareTimeout);
        try
        {
            var connection = ElasticInferenceService.BackendConnectionId(catalogId);
            settings = await service.CompleteNewAsync(connection, settings, wait.Token);
            await service.PrepareAsync(settings, wait.Token);
        }
        catch (ModelNotReadyException) when (!ct.IsCancellationRequested)
        {
            // Still downloading or starting: the backend is assigned and readies itself; requests wait for it (408 meanwhile).
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DomainValidationException($"[service_settings] The [{service.Name}] service did not answer within {PrepareTimeout.TotalSeconds:0} seconds");
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error && !ct.IsCancellationRequested)
        {
            throw new DomainValidationException($"[service_settings] The [{service.Name}] service refused these settings: {error.Reason}", ex);
        }

        return settings;
    }

    private async Task<CatalogModelView> SaveAsync(
        CallerIdentity caller, CatalogEntry entry, Func<CatalogBackend?, DateTimeOffset, CatalogBackend> assign, string details, CancellationToken ct)
    {
        await using (var db = contexts.CreateDbContext())
        {
            var existing = await db.CatalogBackends.SingleOrDefaultAsync(b => b.CatalogModelId == entry.Model.Id, ct);
            var backend = assign(existing, time.GetUtcNow());
            if (existing is null)
            {
                db.CatalogBackends.Add(backend);
            }

            audit.Append(db, caller.OrganizationId, caller, "catalog.backend.set", ResourceType, entry.Model.Id, details);
            await db.SaveChangesAsync(ct);
        }

        await catalog.ReloadAsync(ct);
        return View(Require(entry.Model.Id), caller.IsPlatformOperator);
    }

    // A replaced upstream backend that owned a deployment on the embedded host (the elasticsearch service) frees it, unless
    // the new backend runs on the same deployment.
    private async Task StopOwnDeploymentAsync(CatalogBackend? previous, TaskType taskType, string? keep)
    {
        if (previous is not { Kind: CatalogBackendKind.Upstream } || services.Find(ElasticInferenceService.ServiceName) is not ElasticInferenceService elastic)
        {
            return;
        }

        try
        {
            var (service, settings) = elastic.ParseUpstream(previous, taskType);
            if (service.OwnDeploymentOf(ElasticInferenceService.BackendEndpoint(previous, taskType), settings) is { } deploymentId && deploymentId != keep)
            {
                await service.StopDeploymentAsync(deploymentId);
            }
        }
        catch (Exception ex) when (ex is InferenceApiException or DomainValidationException or System.Text.Json.JsonException
            or System.Security.Cryptography.CryptographicException)
        {
            log.LogWarning(ex, "The deployment of the previous backend of catalog model {CatalogModel} could not be stopped", previous.CatalogModelId);
        }
    }

    // Read afresh: an operator acts on what the database holds, not on this node's copy.
    private async Task<CatalogEntry> RequireAsync(string catalogId, CancellationToken ct)
    {
        await catalog.ReloadAsync(ct);
        return Require(catalogId);
    }

    private CatalogEntry Require(string catalogId) =>
        catalog.Find(catalogId) ?? throw new ResourceNotFoundException($"Catalog model [{catalogId}] not found");

    private static void EnsureOperator(CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only platform operators assign catalog backends.");
        }
    }

    internal static string Wire(CatalogBackendKind kind) => kind == CatalogBackendKind.Embedded ? "embedded" : "upstream";
}
