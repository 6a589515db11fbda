using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Catalog;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Catalog;

/// <summary>A catalog model with the backend the operator gave it (null when none).</summary>
/// <param name="Model">The catalog row.</param>
/// <param name="Backend">Its backend, or null.</param>
public sealed record CatalogEntry(CatalogModel Model, CatalogBackend? Backend);

/// <summary>
/// The managed service's catalog as the request path reads it: every catalog model with its backend, kept in memory because
/// the <c>elastic</c> service consults it on every request. The list is replaced at once when this node assigns a backend
/// and read again after <see cref="RefreshInterval"/> (which bounds how late another node's change is seen). The EOL rule
/// lives here too, so create and every surface answer the same 410. Thread-safe; a singleton.
/// </summary>
public sealed class ManagedCatalog(ISystemDbContextFactory contexts, TimeProvider time) : IDisposable
{
    /// <summary>How old the in-memory catalog may grow before a request reads it again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>The Elasticsearch error type of a model past its end of life.</summary>
    public const string EndOfLifeType = "model_end_of_life_exception";

    private readonly RefreshingSnapshot<Snapshot> _catalog = new(cancellationToken => LoadAsync(contexts, cancellationToken), time, () => RefreshInterval);

    /// <summary>Today's date in UTC: EOL dates are UTC dates.</summary>
    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    /// <summary>
    /// The catalog model <paramref name="id"/> from the in-memory catalog, or null when the catalog has none. The first
    /// call of a process reads the database synchronously; later ones never wait.
    /// </summary>
    public CatalogEntry? Find(string id) => _catalog.Get(() => Load(contexts)).ById.GetValueOrDefault(id);

    /// <summary>The catalog model <paramref name="id"/>, reading the catalog again first when it is stale; null when none.</summary>
    public async ValueTask<CatalogEntry?> FindAsync(string id, CancellationToken cancellationToken) =>
        (await CurrentAsync(cancellationToken)).ById.GetValueOrDefault(id);

    /// <summary>Every catalog model with its backend, read from the database now, in catalog-id order.</summary>
    public async Task<IReadOnlyList<CatalogEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var snapshot = await _catalog.ReloadAsync(cancellationToken);
        return [.. snapshot.ById.Values.OrderBy(e => e.Model.Id, StringComparer.Ordinal)];
    }

    /// <summary>Reads the catalog again now (after a change on this node).</summary>
    public Task ReloadAsync(CancellationToken cancellationToken) => _catalog.ReloadAsync(cancellationToken);

    /// <summary>
    /// Throws the contract's 410 when <paramref name="model"/> has reached its end-of-life date (UTC): from that day on it
    /// serves no request and no new endpoint. Nothing moves to another model by itself.
    /// </summary>
    public void EnsureServing(CatalogModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.IsEndOfLife(Today))
        {
            throw EndOfLife(model);
        }
    }

    /// <summary>The 410 of a model past its end-of-life date.</summary>
    public static InferenceApiException EndOfLife(CatalogModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new InferenceApiException(
            410, EndOfLifeType,
            $"Model [{model.Id}] reached its end-of-life date [{model.EolDate:yyyy-MM-dd}] and no longer serves requests");
    }

    /// <inheritdoc />
    public void Dispose() => _catalog.Dispose();

    private ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken) => _catalog.GetAsync(cancellationToken);

    private static async Task<Snapshot> LoadAsync(ISystemDbContextFactory contexts, CancellationToken cancellationToken)
    {
        await using var context = contexts.CreateDbContext();
        var models = await context.CatalogModels.AsNoTracking().ToListAsync(cancellationToken);
        var backends = await context.CatalogBackends.AsNoTracking().ToListAsync(cancellationToken);
        return Build(models, backends);
    }

    private static Snapshot Load(ISystemDbContextFactory contexts)
    {
        using var context = contexts.CreateDbContext();
        return Build([.. context.CatalogModels.AsNoTracking()], [.. context.CatalogBackends.AsNoTracking()]);
    }

    private static Snapshot Build(List<CatalogModel> models, List<CatalogBackend> backends)
    {
        var byModel = backends.ToDictionary(b => b.CatalogModelId, StringComparer.Ordinal);
        var entries = models.ToDictionary(m => m.Id, m => new CatalogEntry(m, byModel.GetValueOrDefault(m.Id)), StringComparer.Ordinal);
        return new Snapshot(entries);
    }

    private sealed record Snapshot(IReadOnlyDictionary<string, CatalogEntry> ById);
}
