using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WebConsole.Inference.Deployments;

/// <summary>
/// The host's deployments by <c>deployment_id</c>, so several endpoints share one deployment. Thread-safe; disposing it
/// stops every deployment and disposes their workers.
/// </summary>
public sealed class DeploymentManager : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Deployment> _deployments = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private bool _disposed;

    /// <summary>Creates an empty manager.</summary>
    /// <param name="timeProvider">The clock every deployment uses (the system clock when null).</param>
    /// <param name="loggerFactory">Where deployments log (nowhere when null).</param>
    public DeploymentManager(TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>Raised when any deployment's state or allocations change (see <see cref="Deployment.Changed"/>).</summary>
    public event Action<DeploymentSnapshot>? Changed;

    /// <summary>Raised with the deployment id once a deployment is removed.</summary>
    public event Action<string>? Removed;

    /// <summary>
    /// The batched deployment named by <paramref name="settings"/>'s id, created with those settings if absent. An existing
    /// deployment keeps its own settings (change allocations with <see cref="Deployment.UpdateAllocations"/>).
    /// </summary>
    /// <exception cref="DeploymentConflictException">The id is taken by a deployment of another model or kind.</exception>
    public BatchingDeployment<TItem, TResult> GetOrAddBatching<TItem, TResult>(
        DeploymentSettings settings,
        Func<CancellationToken, ValueTask<IBatchWorker<TItem, TResult>>> workerFactory,
        Func<TItem, int> tokenCount) =>
        GetOrAdd(settings, () => new BatchingDeployment<TItem, TResult>(
            settings, workerFactory, tokenCount, _timeProvider, _loggerFactory.CreateLogger<Deployment>()));

    /// <summary>
    /// The exclusive (generation) deployment named by <paramref name="settings"/>'s id, created with those settings if absent.
    /// </summary>
    /// <exception cref="DeploymentConflictException">The id is taken by a deployment of another model or kind.</exception>
    public ExclusiveDeployment<TWorker> GetOrAddExclusive<TWorker>(
        DeploymentSettings settings,
        Func<CancellationToken, ValueTask<TWorker>> workerFactory)
        where TWorker : class =>
        GetOrAdd(settings, () => new ExclusiveDeployment<TWorker>(
            settings, workerFactory, _timeProvider, _loggerFactory.CreateLogger<Deployment>()));

    /// <summary>The deployment with this id, or null.</summary>
    public Deployment? Find(string deploymentId)
    {
        lock (_gate)
        {
            return _deployments.GetValueOrDefault(deploymentId);
        }
    }

    /// <summary>Every deployment's state and statistics, ordered by id.</summary>
    public IReadOnlyList<DeploymentSnapshot> GetSnapshots()
    {
        Deployment[] deployments;
        lock (_gate)
        {
            deployments = [.. _deployments.Values];
        }

        return [.. deployments.Select(static deployment => deployment.GetSnapshot()).OrderBy(static s => s.DeploymentId, StringComparer.Ordinal)];
    }

    /// <summary>Changes a deployment's allocations live; false when there is no such deployment.</summary>
    public bool UpdateAllocations(string deploymentId, AllocationSettings allocations)
    {
        var deployment = Find(deploymentId);
        deployment?.UpdateAllocations(allocations);
        return deployment is not null;
    }

    /// <summary>Stops and removes a deployment; false when there is no such deployment.</summary>
    public async Task<bool> RemoveAsync(string deploymentId)
    {
        Deployment? deployment;
        lock (_gate)
        {
            if (!_deployments.Remove(deploymentId, out deployment))
            {
                return false;
            }
        }

        await deployment.DisposeAsync().ConfigureAwait(false);
        deployment.Changed -= OnChanged;
        Removed?.Invoke(deploymentId);
        return true;
    }

    /// <summary>Stops every deployment and disposes their workers.</summary>
    public async ValueTask DisposeAsync()
    {
        string[] ids;
        lock (_gate)
        {
            _disposed = true;
            ids = [.. _deployments.Keys];
        }

        await Task.WhenAll(ids.Select(RemoveAsync)).ConfigureAwait(false);
    }

    private T GetOrAdd<T>(DeploymentSettings settings, Func<T> create)
        where T : Deployment
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_deployments.TryGetValue(settings.DeploymentId, out var existing))
            {
                if (existing is T typed && string.Equals(existing.ModelId, settings.ModelId, StringComparison.Ordinal))
                {
                    return typed;
                }

                throw new DeploymentConflictException(
                    $"Deployment '{settings.DeploymentId}' already serves model '{existing.ModelId}'; it cannot serve '{settings.ModelId}' as well.");
            }

            // Creating only starts background work, so it is cheap enough to do under the lock, which keeps get-or-add atomic.
            var deployment = create();
            deployment.Changed += OnChanged;
            _deployments.Add(settings.DeploymentId, deployment);
            return deployment;
        }
    }

    private void OnChanged(DeploymentSnapshot snapshot) => Changed?.Invoke(snapshot);
}

/// <summary>A <c>deployment_id</c> already names a deployment of another model or task kind (HTTP 400).</summary>
public sealed class DeploymentConflictException(string message) : InvalidOperationException(message);
