using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Components.Authorization;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.ModelStore;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;
using WebConsole.Web.Apis.Inference;

namespace WebConsole.Web.Components.Endpoints;

/// <summary>The references a delete would break (the dry run of <c>DELETE ?dry_run=true</c>).</summary>
/// <param name="References">Kind ("pipelines", "indexes", "api_keys", ...) and name of each reference.</param>
/// <param name="Message">The warning the REST surface gives, null when nothing refers to the endpoint.</param>
public sealed record DeleteScan(IReadOnlyList<KeyValuePair<string, string>> References, string? Message);

/// <summary>Requests, tokens and errors of one hour.</summary>
public sealed record UsageHour(DateTime Hour, long Requests, long Tokens, long Errors)
{
    /// <summary>The hour as the chart's axis shows it (UTC).</summary>
    public string Label => Hour.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The answer of a "try it" run: the REST-shaped body, the tokens and the cost.</summary>
public sealed record TryResult(JsonNode Body, long InputTokens, long OutputTokens, decimal Cost);

/// <summary>
/// The portal's way to the endpoint services: the same <see cref="InferenceEndpointService"/>, usage queries and
/// <see cref="InferenceRunner"/> the REST surfaces use, never HTTP to itself. Each operation runs in a scope of its own
/// that carries the circuit's signed-in user, so the tenant filter is the caller's, a refresh timer can never share a
/// <c>DbContext</c> with a click, and every "try it" run is a request of its own (its own request id, admission ticket and
/// usage record). Made per page; not thread-safe beyond that.
/// </summary>
public sealed class EndpointsPortal(
    IServiceScopeFactory scopes,
    AuthenticationStateProvider authentication,
    EmbeddedInferenceHost host,
    ModelStore store,
    ManagedCatalog catalog,
    IInferenceServiceRegistry services,
    TimeProvider time)
{
    /// <summary>The hours of the details page's usage charts.</summary>
    public static readonly int UsageHours = 24;

    /// <summary>The services and their configuration schemas (<c>_services</c>).</summary>
    public IReadOnlyList<IInferenceService> Services => services.All;

    /// <summary>Whether the caller may create, change and delete endpoints (the REST surface's <c>manage_inference</c>).</summary>
    public static bool CanManage(CallerIdentity? caller) => caller?.Has(Privilege.ManageInference) == true;

    /// <summary>Every endpoint the caller sees, with badges and live state.</summary>
    public async Task<IReadOnlyList<EndpointRow>> ListAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        var json = await InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>().GetAsync(caller, null, null, cancellationToken));
        var models = (await catalog.ListAsync(cancellationToken)).ToDictionary(e => e.Model.Id, e => e.Model, StringComparer.Ordinal);
        var snapshots = host.Deployments.GetSnapshots();
        return [.. json["endpoints"]!.AsArray().Select(e => ToRow(caller, e!.AsObject(), models, snapshots))];
    }

    /// <summary>The stored configuration of one endpoint (never its secrets); null when the caller has no such endpoint.</summary>
    public async Task<JsonObject?> GetAsync(CallerIdentity caller, string inferenceId, CancellationToken cancellationToken)
    {
        try
        {
            var json = await InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>().GetAsync(caller, null, inferenceId, cancellationToken));
            return json["endpoints"]![0]!.AsObject();
        }
        catch (InferenceApiException notFound) when (notFound.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
        catch (Domain.DomainValidationException)
        {
            // An id that cannot exist.
            return null;
        }
    }

    /// <summary>The row of one configuration, with its live state as of now.</summary>
    public async Task<EndpointRow> RowAsync(CallerIdentity caller, JsonObject endpoint, CancellationToken cancellationToken)
    {
        var models = (await catalog.ListAsync(cancellationToken)).ToDictionary(e => e.Model.Id, e => e.Model, StringComparer.Ordinal);
        return ToRow(caller, endpoint, models, host.Deployments.GetSnapshots());
    }

    /// <summary>The live state of rows, refreshed from the host and the model store (no database).</summary>
    public IReadOnlyList<EndpointRow> Refresh(CallerIdentity caller, IReadOnlyList<EndpointRow> rows)
    {
        var snapshots = host.Deployments.GetSnapshots();
        return [.. rows.Select(r => r.Service == ElasticsearchInferenceService.ServiceName
            ? r with { Live = Live(caller, r.InferenceId, r.IsReserved, r.ModelId, r.DeploymentId, snapshots) }
            : r)];
    }

    /// <summary>The live deployment of one endpoint: its snapshot, or null when it is not deployed.</summary>
    public DeploymentSnapshot? Deployment(CallerIdentity caller, JsonObject endpoint)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(endpoint);
        var id = DeploymentIdOf(caller, endpoint["inference_id"]!.GetValue<string>(), endpoint["service_settings"]?["deployment_id"]?.GetValue<string>());
        return host.Deployments.GetSnapshots().FirstOrDefault(s => s.DeploymentId == id);
    }

    /// <summary>The model store's status of a model.</summary>
    public ModelDownloadStatus DownloadOf(string modelId) => store.GetStatus(ElasticsearchInferenceService.Canonical(modelId));

    /// <summary>
    /// Creates an endpoint through the create path of <c>PUT /_inference/{id}</c> (same parsing, validation, messages and
    /// audit). Waits briefly for the model: a download that takes longer goes on, and the page shows it.
    /// </summary>
    /// <exception cref="InferenceApiException">The contract's error, e.g. a missing or invalid setting.</exception>
    public Task<EndpointCreation> CreateAsync(CallerIdentity caller, string inferenceId, JsonObject body, CancellationToken cancellationToken)
    {
        RequireManage(caller);
        return InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>()
            .CreateAsync(caller, inferenceId, null, body, TimeSpan.FromSeconds(2), cancellationToken));
    }

    /// <summary>Updates an endpoint's settings through the code of <c>PUT /_inference/{id}/_update</c>; answers its new configuration.</summary>
    /// <exception cref="InferenceApiException">The contract's error, e.g. a setting that cannot be updated.</exception>
    public Task<JsonObject> UpdateAsync(CallerIdentity caller, string inferenceId, JsonObject body, CancellationToken cancellationToken)
    {
        RequireManage(caller);
        return InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>().UpdateAsync(caller, inferenceId, null, body, cancellationToken));
    }

    /// <summary>The references that block a delete, as <c>DELETE ?dry_run=true</c> reports them; nothing is deleted.</summary>
    public async Task<DeleteScan> ScanAsync(CallerIdentity caller, string inferenceId, CancellationToken cancellationToken)
    {
        RequireManage(caller);
        var json = await InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>()
            .DeleteAsync(caller, inferenceId, null, dryRun: true, force: false, cancellationToken));
        var references = json
            .Where(p => p.Value is JsonArray)
            .SelectMany(p => p.Value!.AsArray().Select(name => KeyValuePair.Create(p.Key, name!.GetValue<string>())))
            .ToList();
        return new DeleteScan(references, json["error_message"]?.GetValue<string>());
    }

    /// <summary>Deletes an endpoint; <paramref name="force"/> past its references (the warning was acknowledged).</summary>
    public Task DeleteAsync(CallerIdentity caller, string inferenceId, bool force, CancellationToken cancellationToken)
    {
        RequireManage(caller);
        return InScopeAsync(sp => sp.GetRequiredService<InferenceEndpointService>()
            .DeleteAsync(caller, inferenceId, null, dryRun: false, force, cancellationToken));
    }

    /// <summary>The last <see cref="UsageHours"/> hours of the endpoint's usage, hour by hour, oldest first (from the ledger).</summary>
    public async Task<IReadOnlyList<UsageHour>> UsageAsync(CallerIdentity caller, string inferenceId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var last = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        var first = last.AddHours(1 - UsageHours);
        var hours = Enumerable.Range(0, UsageHours).Select(i => first.AddHours(i)).ToDictionary(h => h, _ => (Requests: 0L, Tokens: 0L, Errors: 0L));
        await InScopeAsync(async sp =>
        {
            var query = new UsageQuery(From: new DateTimeOffset(first), To: now.AddSeconds(1), InferenceId: inferenceId);
            await foreach (var record in sp.GetRequiredService<UsageQueryService>().RecordsAsync(caller, query, cancellationToken))
            {
                var at = record.OccurredAt.UtcDateTime;
                var hour = new DateTime(at.Year, at.Month, at.Day, at.Hour, 0, 0, DateTimeKind.Utc);
                if (hours.TryGetValue(hour, out var sums))
                {
                    hours[hour] = (sums.Requests + 1, sums.Tokens + record.InputTokens + record.OutputTokens,
                        sums.Errors + (record.Outcome == UsageOutcome.Failed ? 1 : 0));
                }
            }

            return true;
        });
        return [.. hours.OrderBy(h => h.Key).Select(h => new UsageHour(h.Key, h.Value.Requests, h.Value.Tokens, h.Value.Errors))];
    }

    /// <summary>
    /// Runs one request on the endpoint by the path of <c>POST /_inference/{id}</c>: the endpoint resolved for the caller,
    /// the body parsed with the REST limits, admitted through rate limits and budgets, run, and its usage recorded and
    /// billed. Errors are the contract's <see cref="InferenceApiException"/> (429, 402, 400, ...).
    /// </summary>
    public Task<TryResult> TryAsync(CallerIdentity caller, string inferenceId, JsonObject body, CancellationToken cancellationToken) =>
        InScopeAsync(async sp =>
        {
            var runner = sp.GetRequiredService<InferenceRunner>();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(120));
            try
            {
                var resolved = await runner.ResolveAsync(caller, inferenceId, null, deadline.Token);
                var request = InferenceRequests.ParsePerform(body, resolved.Endpoint.TaskType, runner.Limits);
                await runner.AdmitAsync(caller, resolved, request, deadline.Token);
                var (result, usage) = await InferenceRunner.RunAsync(resolved, request, deadline.Token);
                var cost = await runner.RecordAsync(caller, resolved, usage, streamed: false, completed: true);
                return new TryResult(result, usage.InputTokens, usage.OutputTokens, cost);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out");
            }
        });

    /// <summary>The chunking settings an endpoint applies (its own, else the default), null for task types that do not chunk.</summary>
    public static ChunkingSettings? ChunkingOf(JsonObject endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!TaskTypes.TryParse(endpoint["task_type"]?.GetValue<string>(), out var taskType) || !taskType.SupportsChunking())
        {
            return null;
        }

        return endpoint["chunking_settings"] is JsonObject stored ? EndpointJson.ChunkingFromJson(stored) : ChunkingSettings.Default;
    }

    private static void RequireManage(CallerIdentity caller)
    {
        if (!CanManage(caller))
        {
            throw new InferenceApiException(403, "security_exception", "You need the manage_inference privilege to change inference endpoints.");
        }
    }

    private EndpointRow ToRow(CallerIdentity caller, JsonObject endpoint, Dictionary<string, CatalogModel> models, IReadOnlyList<DeploymentSnapshot> snapshots)
    {
        var id = endpoint["inference_id"]!.GetValue<string>();
        var service = endpoint["service"]!.GetValue<string>();
        var settings = endpoint["service_settings"] as JsonObject ?? [];
        var modelId = EndpointJson.ModelIdOf(settings.ToJsonString());
        var reserved = id.StartsWith('.');
        var model = modelId is not null && models.TryGetValue(modelId, out var found) ? found : null;
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var eol = model is null ? EndOfLife.None : model.IsEndOfLife(today) ? EndOfLife.Past : model.IsEolSoon(today) ? EndOfLife.Soon : EndOfLife.None;
        var deploymentId = service == ElasticsearchInferenceService.ServiceName ? settings["deployment_id"]?.GetValue<string>() : null;
        return new EndpointRow(
            id, service, modelId, endpoint["task_type"]!.GetValue<string>(), reserved,
            model?.ReleaseStatus == ReleaseStatus.Preview, eol, model?.EolDate,
            service == ElasticsearchInferenceService.ServiceName ? Live(caller, id, reserved, modelId, deploymentId, snapshots) : EndpointLiveState.Idle)
        {
            DeploymentId = deploymentId,
        };
    }

    private EndpointLiveState Live(
        CallerIdentity caller, string inferenceId, bool reserved, string? modelId, string? deploymentId, IReadOnlyList<DeploymentSnapshot> snapshots)
    {
        var id = reserved ? deploymentId ?? inferenceId : DeploymentIdOf(caller, inferenceId, deploymentId);
        var snapshot = snapshots.FirstOrDefault(s => s.DeploymentId == id);
        var download = modelId is null ? null : store.GetStatus(ElasticsearchInferenceService.Canonical(modelId));
        var downloading = download is { State: ModelDownloadState.Downloading or ModelDownloadState.Building };
        return new EndpointLiveState(
            snapshot?.State.ToContractName(), snapshot?.AllocationCount ?? 0, snapshot?.TargetAllocationCount ?? 0,
            downloading ? download!.State.ToString().ToLowerInvariant() : null, downloading ? download!.Percent : null);
    }

    // The host's deployment id (ElasticsearchInferenceService.DeploymentIdOf): reserved endpoints share theirs, the others
    // carry their organization's prefix.
    private static string DeploymentIdOf(CallerIdentity caller, string inferenceId, string? deploymentId)
    {
        var id = deploymentId ?? inferenceId;
        return inferenceId.StartsWith('.') ? id : $"{ElasticsearchInferenceService.OrganizationPrefix(caller.OrganizationId)}{id}";
    }

    // A scope of its own with the circuit's user as its authentication state, so its tenant filter is the caller's.
    private async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (scope.ServiceProvider.GetService<AuthenticationStateProvider>() is IHostEnvironmentAuthenticationStateProvider state)
        {
            state.SetAuthenticationState(authentication.GetAuthenticationStateAsync());
        }

        return await work(scope.ServiceProvider);
    }
}
