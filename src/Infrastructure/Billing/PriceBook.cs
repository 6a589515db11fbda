using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Billing;

/// <summary>A price looked up for a request and the request's cost at it.</summary>
/// <param name="Price">The price in force, or null when the model has none (the request then costs nothing).</param>
/// <param name="Cost">The cost, rounded to <see cref="UsageRecord.CostDecimals"/> places.</param>
public readonly record struct PriceQuote(Price? Price, decimal Cost);

/// <summary>A price with the same model, currency and start already exists.</summary>
public sealed class PriceConflictException(string message) : Exception(message);

/// <summary>
/// The operator's prices per model, effective-dated: the price in force at a time is the one with the latest start at or
/// before it, so a new price never changes what earlier requests cost. The list is small and read on every request, so it
/// is kept in memory: replaced at once when this node sets a price, and read again after
/// <see cref="BillingOptions.PriceRefreshInterval"/> to see other nodes' changes. Thread-safe; a singleton.
/// </summary>
public sealed class PriceBook(ISystemDbContextFactory contexts, IOptions<BillingOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>How far in the past a new price may start (clock skew between the operator and the server), no more.</summary>
    public static readonly TimeSpan PastTolerance = TimeSpan.FromMinutes(1);

    // Stale prices are read again by one caller while the others go on; with the database down the old list stays in use
    // (prices rarely change, and billing must not stop for a refresh).
    private readonly RefreshingSnapshot<Snapshot> _prices = new(
        cancellationToken => LoadAsync(contexts, options.Value.Currency.ToUpperInvariant(), cancellationToken), time, () => options.Value.PriceRefreshInterval);

    /// <summary>The installation's currency: the only one prices are billed in.</summary>
    public string Currency => options.Value.Currency.ToUpperInvariant();

    /// <summary>The price of <paramref name="modelId"/> in force at <paramref name="at"/>, in the installation's currency.</summary>
    public async ValueTask<Price?> FindAsync(string modelId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(cancellationToken);
        if (!snapshot.ByModel.TryGetValue(modelId, out var prices))
        {
            return null;
        }

        // Sorted by start: the last one not after `at`.
        for (var i = prices.Length - 1; i >= 0; i--)
        {
            if (prices[i].EffectiveFrom <= at)
            {
                return prices[i];
            }
        }

        return null;
    }

    /// <summary>
    /// The cost of a request at the price in force: chat and completion bill input and output tokens, embeddings and rerank
    /// input tokens only (rerank's input counts the query and the documents). No price costs nothing.
    /// </summary>
    public async ValueTask<PriceQuote> QuoteAsync(
        string modelId, TaskType taskType, long inputTokens, long outputTokens, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var price = await FindAsync(modelId, at, cancellationToken);
        return new PriceQuote(price, CostAt(price, taskType, inputTokens, outputTokens));
    }

    /// <summary>The cost at <paramref name="price"/>, rounded as usage records keep it.</summary>
    public static decimal CostAt(Price? price, TaskType taskType, long inputTokens, long outputTokens) =>
        price is { } p
            ? Math.Round(p.CostOf(taskType, inputTokens, outputTokens), UsageRecord.CostDecimals, MidpointRounding.ToEven)
            : 0m;

    /// <summary>Every stored price (history included), optionally of one model, by model then start.</summary>
    public async Task<IReadOnlyList<ModelPrice>> ListAsync(string? modelId, CancellationToken cancellationToken)
    {
        await using var context = contexts.CreateDbContext();
        var query = context.ModelPrices.AsNoTracking();
        if (!string.IsNullOrEmpty(modelId))
        {
            query = query.Where(p => p.ModelId == modelId);
        }

        // Ordered in memory: SQLite stores times as integers and decimals as text, which sort fine there but not portably.
        var prices = await query.ToListAsync(cancellationToken);
        return [.. prices.OrderBy(p => p.ModelId, StringComparer.Ordinal).ThenBy(p => p.EffectiveFrom)];
    }

    /// <summary>
    /// Adds a price starting at <paramref name="effectiveFrom"/> (default now). Stored prices are never edited; a start in
    /// the past (beyond <see cref="PastTolerance"/>) is refused, since it would reprice requests already billed.
    /// </summary>
    /// <exception cref="DomainValidationException">A field is invalid, the start is in the past, or the currency is not the installation's.</exception>
    /// <exception cref="PriceConflictException">The model already has a price starting at that time.</exception>
    public async Task<ModelPrice> SetAsync(
        string? modelId, decimal inputPerMillion, decimal outputPerMillion, string? currency, DateTimeOffset? effectiveFrom, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var start = (effectiveFrom ?? now).ToUniversalTime();
        if (start < now - PastTolerance)
        {
            throw new DomainValidationException(
                $"[effective_from] must not be in the past (got [{start:O}], now is [{now:O}]); a new price never reprices earlier requests");
        }

        var price = Price.Create(modelId!, inputPerMillion, outputPerMillion, string.IsNullOrWhiteSpace(currency) ? Currency : currency, start);
        if (!string.Equals(price.Currency, Currency, StringComparison.Ordinal))
        {
            throw new DomainValidationException($"[currency] must be the installation's currency [{Currency}], got [{price.Currency}]");
        }

        var row = ModelPrice.Create(Guid.CreateVersion7(now), price);
        await using (var context = contexts.CreateDbContext())
        {
            if (await context.ModelPrices.AnyAsync(p => p.ModelId == price.ModelId && p.Currency == price.Currency && p.EffectiveFrom == price.EffectiveFrom, cancellationToken))
            {
                throw new PriceConflictException($"Model [{price.ModelId}] already has a price starting at [{price.EffectiveFrom:O}]");
            }

            context.ModelPrices.Add(row);
            await context.SaveChangesAsync(cancellationToken);
        }

        await ReloadAsync(cancellationToken);
        return row;
    }

    /// <summary>Reads the prices again now (start-up warm-up, and after a change).</summary>
    public Task ReloadAsync(CancellationToken cancellationToken) => _prices.ReloadAsync(cancellationToken);

    private ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken) => _prices.GetAsync(cancellationToken);

    private static async Task<Snapshot> LoadAsync(ISystemDbContextFactory contexts, string currency, CancellationToken cancellationToken)
    {
        await using var context = contexts.CreateDbContext();
        var rows = await context.ModelPrices.AsNoTracking().Where(p => p.Currency == currency).ToListAsync(cancellationToken);
        var byModel = rows
            .GroupBy(p => p.ModelId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Price).OrderBy(p => p.EffectiveFrom).ToArray(), StringComparer.Ordinal);
        return new Snapshot(byModel);
    }

    /// <inheritdoc />
    public void Dispose() => _prices.Dispose();

    private sealed record Snapshot(IReadOnlyDictionary<string, Price[]> ByModel);
}
