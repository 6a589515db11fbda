using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Unit.Usage;

namespace WebConsole.Unit.RateLimiting;

/// <summary>The policy cache over a real (SQLite) table: changes apply without a restart.</summary>
public sealed class RateLimitPoliciesTests : IAsyncLifetime
{
    private static readonly Guid Organization = Guid.Parse("9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c07");
    private readonly FakeClock _clock = new();
    private LedgerTestDatabase _database = default!;
    private Guid _policyId;

    public async Task InitializeAsync()
    {
        _database = await LedgerTestDatabase.CreateAsync();
        _policyId = Guid.NewGuid();
        await using var db = _database.CreateDbContext();
        db.RateLimitPolicies.Add(RateLimitPolicy.Create(_policyId, RateLimitScope.Global, null,
            ModelSelector.ForFamily(TaskType.TextEmbedding), RateLimit.Create(5, null, null)));
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task An_invalidated_cache_reads_the_change_before_the_next_request()
    {
        using var policies = new RateLimitPolicies(_database, _clock, NullLogger<RateLimitPolicies>.Instance);
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));

        await SetAsync(7);
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));
        policies.Invalidate();
        Assert.Equal(7, await RequestsPerMinuteAsync(policies));
    }

    [Fact]
    public async Task A_change_made_elsewhere_applies_within_the_refresh_interval()
    {
        using var policies = new RateLimitPolicies(_database, _clock, NullLogger<RateLimitPolicies>.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));
        await SetAsync(9);

        _clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));

        // Past the interval the next request still answers at once (with the old set) and starts a read in the background.
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        int? seen;
        while ((seen = await RequestsPerMinuteAsync(policies)) != 9 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(9, seen);
    }

    [Fact]
    public async Task An_unreadable_database_keeps_the_previous_policies_and_before_any_read_admits_without_limit()
    {
        using var policies = new RateLimitPolicies(_database, _clock, NullLogger<RateLimitPolicies>.Instance);
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));

        _database.Down = true;
        policies.Invalidate();
        Assert.Equal(5, await RequestsPerMinuteAsync(policies));

        using var cold = new RateLimitPolicies(_database, _clock, NullLogger<RateLimitPolicies>.Instance);
        Assert.Empty((await cold.GetAsync()).Rules);

        // Once the database is back, the first read after a second finds the policies.
        _database.Down = false;
        _clock.Advance(TimeSpan.FromSeconds(1));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await cold.GetAsync()).Rules.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(5, await RequestsPerMinuteAsync(cold));
    }

    private static async Task<int?> RequestsPerMinuteAsync(RateLimitPolicies policies) =>
        (await policies.ResolveAsync(Organization, null, null, "any-model", TaskType.TextEmbedding, default))?.Limit.RequestsPerMinute;

    private async Task SetAsync(int requestsPerMinute)
    {
        await using var db = _database.CreateDbContext();
        var policy = await db.RateLimitPolicies.SingleAsync(p => p.Id == _policyId);
        policy.ChangeLimit(RateLimit.Create(requestsPerMinute, null, null));
        await db.SaveChangesAsync();
    }
}
