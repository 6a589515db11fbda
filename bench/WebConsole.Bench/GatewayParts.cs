using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Bench;

/// <summary>The gateway's parts on their own: rate-limiter decisions and the usage ledger's durable records.</summary>
internal static class GatewayParts
{
    /// <summary>Decisions per second of the sliding-window limiter, on one hot key and spread over many keys.</summary>
    public static void RateLimiter(BenchOptions options, Results results)
    {
        var limit = RateLimit.Create(int.MaxValue, long.MaxValue / 4, long.MaxValue / 4);
        foreach (var (name, keys, threads) in new[] { ("1 key, 1 thread", 1, 1), ("10,000 keys, 1 thread", 10_000, 1), ($"10,000 keys, {options.Threads} threads", 10_000, options.Threads), ($"1 key, {options.Threads} threads", 1, options.Threads) })
        {
            var keyNames = Enumerable.Range(0, keys).Select(k => $"api_key:{k:D6}|family:text_embedding").ToArray();
            var runs = new List<double>();
            for (var repeat = 0; repeat < options.Repeats; repeat++)
            {
                var limiter = new SlidingWindowLimiter(TimeProvider.System);
                long decisions = 0;
                var clock = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, worker =>
                {
                    long mine = 0;
                    var i = worker;
                    while (clock.Elapsed < options.ShortDuration)
                    {
                        for (var j = 0; j < 1000; j++, i += threads)
                        {
                            limiter.TryAcquire(keyNames[i % keys], limit, 12, TokenBudget.Search);
                        }

                        mine += 1000;
                    }

                    Interlocked.Add(ref decisions, mine);
                });
                runs.Add(decisions / clock.Elapsed.TotalSeconds);
            }

            results.Add("limiter", $"TryAcquire, {name}", "decisions/s", runs);
        }
    }

    /// <summary>
    /// Records per second the ledger commits (each RecordAsync returns once its record is durably committed) with many
    /// requests recording at once; then counts the rows: every acknowledged record must be there.
    /// </summary>
    public static async Task LedgerAsync(BenchOptions options, Results results, string name, Func<DbContextOptions<WebConsoleDbContext>> database)
    {
        var factory = new ContextFactory(database());
        await using (var context = factory.CreateDbContext())
        {
            await context.Database.MigrateAsync();
        }

        var billing = Options.Create(new BillingOptions());
        using var prices = new PriceBook(factory, billing, TimeProvider.System);
        await prices.SetAsync("bench-model", 0.02m, 0m, null, null, default);
        var organization = Guid.CreateVersion7();
        var caller = new CallerIdentity(organization, Guid.CreateVersion7(), null, "bench-key", new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);
        var runs = new List<double>();
        long acknowledged = 0;
        await using (var ledger = new UsageLedger(factory, prices, billing, TimeProvider.System, NullLogger<UsageLedger>.Instance))
        {
            await ledger.StartAsync(default);
            for (var repeat = 0; repeat < options.Repeats; repeat++)
            {
                long done = 0;
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, options.LedgerWriters).Select(async _ =>
                {
                    while (clock.Elapsed < options.ShortDuration)
                    {
                        await ledger.RecordAsync(new InferenceUsage(caller, "bench-embed", "elasticsearch", TaskType.TextEmbedding, "bench-model", 42, 0, Streamed: false, Completed: true), default);
                        Interlocked.Increment(ref done);
                    }
                }));
                runs.Add(done / clock.Elapsed.TotalSeconds);
                acknowledged += done;
            }

            await ledger.StopAsync(default);
        }

        long stored;
        await using (var context = factory.CreateDbContext())
        {
            stored = await context.UsageRecords.LongCountAsync(r => r.OrganizationId == organization);
        }

        results.Add("ledger", $"{name}: committed records/s, {options.LedgerWriters} concurrent writers", "records/s", runs);
        results.Add("ledger", $"{name}: acknowledged records missing from the database", "records", [acknowledged - stored], $"{acknowledged} acknowledged, {stored} stored");
    }

    private sealed class ContextFactory(DbContextOptions<WebConsoleDbContext> options) : ISystemDbContextFactory
    {
        private static readonly FixedTenantContext System = new(null, false, true);

        public WebConsoleDbContext CreateDbContext() => new(options, System);

        public WebConsoleDbContext CreateDbContext(ITenantContext tenant) => new(options, tenant);
    }
}
