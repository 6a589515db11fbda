using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Models;
using WebConsole.Inference.ModelStore;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Models;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// The installation's models: the built-in ones (downloaded or built on first use), those users import from a hub
/// repository or a local folder in the export layout (the counterpart of Eland uploads), and their download progress.
/// Models are shared by the installation; reading them needs monitor_inference, changing them a platform operator.
/// Scoped.
/// </summary>
internal sealed class ModelManagement(
    ModelStore store,
    ModelRegistry registry,
    BuiltInModels builtIns,
    ModelProvisioner provisioner,
    ModelSourceFactory sources,
    ModelDescriptions descriptions,
    ISystemDbContextFactory systemDb,
    IAuditLog audit,
    ILogger<ModelManagement> log)
{
    private const string ResourceType = "model";

    /// <summary>Every model: built-in, in the store, or on its way in; sorted by id.</summary>
    public IReadOnlyList<ModelResponse> List()
    {
        var ids = new SortedSet<string>(registry.ListIds(), StringComparer.Ordinal);
        ids.UnionWith(BuiltInModels.Ids);
        ids.UnionWith(store.Statuses.Select(s => s.ModelId));
        return [.. ids.Select(Describe)];
    }

    /// <summary>One model.</summary>
    /// <exception cref="ResourceNotFoundException">No such model.</exception>
    public ModelResponse Get(string modelId)
    {
        var known = BuiltInModels.Ids.Contains(modelId) || Present(modelId) || store.GetStatus(modelId).State != ModelDownloadState.Absent;
        return known ? Describe(modelId) : throw new ResourceNotFoundException($"Model [{modelId}] not found");
    }

    /// <summary>
    /// Starts importing a model from a hub repository or a local folder; answers its status at once (the import goes on
    /// in the background and shows progress) or, with <paramref name="waitForCompletion"/>, when it is done.
    /// </summary>
    public async Task<ModelResponse> ImportAsync(CallerIdentity caller, ImportModelRequest request, bool waitForCompletion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(request.ModelId))
        {
            errors.Add("[model_id] is required");
        }
        else if (!ModelRegistry.IsValidId(request.ModelId) || request.ModelId.StartsWith('.'))
        {
            errors.Add("[model_id] must be segments of letters, digits, '.', '_' and '-' separated by '/', not starting with '.' (reserved for built-in models)");
        }

        var fromHub = !string.IsNullOrWhiteSpace(request.HubRepository);
        var fromFolder = !string.IsNullOrWhiteSpace(request.LocalPath);
        if (fromHub == fromFolder)
        {
            errors.Add("[hub_repository] or [local_path]: exactly one is required");
        }
        else if (fromHub && !HubRepositoryPattern(request.HubRepository!))
        {
            errors.Add("[hub_repository] must be 'owner/name'");
        }
        else if (fromFolder && !Directory.Exists(request.LocalPath))
        {
            errors.Add($"[local_path] {request.LocalPath} is not a folder on the server");
        }

        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }

        var modelId = request.ModelId!;
        if (Present(modelId) || store.GetStatus(modelId).State is ModelDownloadState.Downloading or ModelDownloadState.Building)
        {
            throw new ResourceConflictException($"Model [{modelId}] already exists or is being imported");
        }

        var source = fromHub
            ? sources.FromHub(request.HubRepository!, request.Revision, request.OnnxFile)
            : new LocalFolderModelSource(request.LocalPath!);
        await audit.RecordAsync(caller, "model.import", ResourceType, modelId, source.Description, cancellationToken);
        var import = ImportInBackgroundAsync(modelId, source);
        if (waitForCompletion)
        {
            await import.WaitAsync(cancellationToken);
        }

        return Describe(modelId);
    }

    /// <summary>Starts a built-in model's download or build (no-op when present or under way).</summary>
    /// <exception cref="ResourceNotFoundException">Not a built-in model.</exception>
    public ModelResponse Download(string modelId)
    {
        if (builtIns.Find(modelId) is null)
        {
            throw new ResourceNotFoundException($"[{modelId}] is not a built-in model; import it with POST /api/models");
        }

        provisioner.Start(modelId);
        return Describe(modelId);
    }

    /// <summary>
    /// Removes a model from the store. Endpoints of any organization that use it block the removal (409) unless
    /// <paramref name="force"/>; a built-in model comes back on its next use.
    /// </summary>
    public async Task<ModelResponse> DeleteAsync(CallerIdentity caller, string modelId, bool force, CancellationToken cancellationToken)
    {
        if (!Present(modelId))
        {
            throw new ResourceNotFoundException($"Model [{modelId}] is not in the model store");
        }

        var users = await EndpointsUsingAsync(modelId, cancellationToken);
        if (users.Count > 0 && !force)
        {
            throw new ResourceConflictException(
                $"Model [{modelId}] is used by {users.Count} inference endpoint(s) ({string.Join(", ", users.Take(5))}{(users.Count > 5 ? ", ..." : string.Empty)}); delete them first or use force=true");
        }

        try
        {
            if (!await store.DeleteAsync(modelId, cancellationToken))
            {
                throw new ResourceNotFoundException($"Model [{modelId}] is not in the model store");
            }
        }
        catch (InvalidOperationException ex)
        {
            throw new ResourceConflictException(ex.Message);
        }

        await audit.RecordAsync(caller, "model.delete", ResourceType, modelId, force && users.Count > 0 ? $"forced; used by {users.Count}" : null, cancellationToken);
        return Describe(modelId);
    }

    private async Task ImportInBackgroundAsync(string modelId, IModelSource source)
    {
        try
        {
            await store.EnsureAsync(modelId, source, CancellationToken.None);
        }
        catch (Exception ex) when (ex is ModelDownloadException or ModelUnavailableException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The store keeps the reason in the model's status, which the portal and GET /api/models show.
            ModelManagementLog.ImportFailed(log, modelId, ex.Message);
        }
    }

    private bool Present(string modelId)
    {
        try
        {
            return registry.TryGet(modelId, out _);
        }
        catch (ModelUnavailableException)
        {
            return true;
        }
    }

    // Endpoints of every organization whose service settings name the model: the ids are shown only to the operator.
    private async Task<List<string>> EndpointsUsingAsync(string modelId, CancellationToken cancellationToken)
    {
        await using var db = systemDb.CreateDbContext();
        var candidates = await db.InferenceEndpoints.IgnoreQueryFilters()
            .Where(e => e.ServiceSettings.Contains(modelId))
            .Select(e => new { e.InferenceId, e.ServiceSettings })
            .ToListAsync(cancellationToken);
        return [.. candidates
            .Where(e => Infrastructure.Endpoints.EndpointJson.ModelIdOf(e.ServiceSettings) is { } id && string.Equals(Infrastructure.Endpoints.ElasticsearchInferenceService.Canonical(id), modelId, StringComparison.Ordinal))
            .Select(e => e.InferenceId.Value)
            .Distinct(StringComparer.Ordinal)];
    }

    private ModelResponse Describe(string modelId)
    {
        var builtIn = builtIns.Find(modelId);
        var status = store.GetStatus(modelId);
        ModelDescription? description = null;
        string? problem = null;
        string? origin = null;
        try
        {
            if (registry.TryGet(modelId, out var folder))
            {
                description = descriptions.Get(folder);
                origin = folder.Registration is not null ? "configured" : ReadManifestSource(folder.Path);
            }
        }
        catch (ModelUnavailableException ex)
        {
            problem = ex.Message;
        }

        return new ModelResponse(
            modelId,
            (description?.TaskType ?? builtIn?.TaskType)?.ToWireName(),
            description?.Dimensions,
            description?.MaxInputTokens,
            description?.Architecture,
            builtIn is null ? origin ?? "store" : builtIn.IsLocal ? "built_in_local" : "built_in_hub",
            builtIn?.Repository,
            builtIn?.IsLocal == false ? builtIn.Revision : null,
            builtIn?.License,
            builtIn?.Description,
            ModelDownloadResponse.From(status),
            problem);
    }

    private static string? ReadManifestSource(string folder)
    {
        var manifest = Path.Combine(folder, "webconsole-model.json");
        try
        {
            return File.Exists(manifest) && JsonNode.Parse(File.ReadAllText(manifest)) is JsonObject o && o["source"] is JsonValue v && v.TryGetValue<string>(out var source)
                ? source
                : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return null;
        }
    }

    private static bool HubRepositoryPattern(string repository) =>
        repository.Split('/') is [{ Length: > 0 } owner, { Length: > 0 } name]
        && ModelRegistry.IsValidId(owner) && ModelRegistry.IsValidId(name);
}

internal static partial class ModelManagementLog
{
    [LoggerMessage(1, LogLevel.Warning, "Importing model {ModelId} failed: {Reason}")]
    public static partial void ImportFailed(ILogger logger, string modelId, string reason);
}

/// <summary>POST /api/models: a model to import (exactly one of <see cref="HubRepository"/> and <see cref="LocalPath"/>).</summary>
/// <param name="ModelId">The id to serve it under (e.g. <c>my-e5</c> or <c>team/my-e5</c>).</param>
/// <param name="HubRepository">A hub repository, <c>owner/name</c>.</param>
/// <param name="Revision">The hub revision (default <c>main</c>).</param>
/// <param name="OnnxFile">The ONNX graph to take (default <c>onnx/model.onnx</c>, else <c>model.onnx</c>).</param>
/// <param name="LocalPath">A folder on the server in the export layout.</param>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
internal sealed record ImportModelRequest(
    [property: System.Text.Json.Serialization.JsonPropertyName("model_id")] string? ModelId,
    [property: System.Text.Json.Serialization.JsonPropertyName("hub_repository")] string? HubRepository,
    [property: System.Text.Json.Serialization.JsonPropertyName("revision")] string? Revision,
    [property: System.Text.Json.Serialization.JsonPropertyName("onnx_file")] string? OnnxFile,
    [property: System.Text.Json.Serialization.JsonPropertyName("local_path")] string? LocalPath);

/// <summary>A model as the management API shows it.</summary>
internal sealed record ModelResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("model_id")] string ModelId,
    [property: System.Text.Json.Serialization.JsonPropertyName("task_type")] string? TaskType,
    [property: System.Text.Json.Serialization.JsonPropertyName("dimensions")] int? Dimensions,
    [property: System.Text.Json.Serialization.JsonPropertyName("max_input_tokens")] int? MaxInputTokens,
    [property: System.Text.Json.Serialization.JsonPropertyName("architecture")] string? Architecture,
    [property: System.Text.Json.Serialization.JsonPropertyName("source")] string Source,
    [property: System.Text.Json.Serialization.JsonPropertyName("repository")] string? Repository,
    [property: System.Text.Json.Serialization.JsonPropertyName("revision")] string? Revision,
    [property: System.Text.Json.Serialization.JsonPropertyName("license")] string? License,
    [property: System.Text.Json.Serialization.JsonPropertyName("description")] string? Description,
    [property: System.Text.Json.Serialization.JsonPropertyName("download")] ModelDownloadResponse Download,
    [property: System.Text.Json.Serialization.JsonPropertyName("problem")] string? Problem);

/// <summary>A model's download or build progress.</summary>
internal sealed record ModelDownloadResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("model_id")] string ModelId,
    [property: System.Text.Json.Serialization.JsonPropertyName("state")] string State,
    [property: System.Text.Json.Serialization.JsonPropertyName("downloaded_bytes")] long DownloadedBytes,
    [property: System.Text.Json.Serialization.JsonPropertyName("total_bytes")] long? TotalBytes,
    [property: System.Text.Json.Serialization.JsonPropertyName("percent")] double? Percent,
    [property: System.Text.Json.Serialization.JsonPropertyName("bytes_per_second")] double BytesPerSecond,
    [property: System.Text.Json.Serialization.JsonPropertyName("eta_seconds")] double? EtaSeconds,
    [property: System.Text.Json.Serialization.JsonPropertyName("reason")] string? Reason,
    [property: System.Text.Json.Serialization.JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public static ModelDownloadResponse From(ModelDownloadStatus status) => new(
        status.ModelId,
        status.State.ToString().ToLowerInvariant(),
        status.DownloadedBytes,
        status.TotalBytes,
        status.Percent is { } percent ? Math.Round(percent, 1) : null,
        Math.Round(status.BytesPerSecond),
        status.EstimatedRemaining is { } eta ? Math.Ceiling(eta.TotalSeconds) : null,
        status.Reason,
        status.UpdatedAt);
}
