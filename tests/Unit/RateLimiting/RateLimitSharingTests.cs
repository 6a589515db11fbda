using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.Unit.RateLimiting;

/// <summary>
/// The registration and settings of <see cref="RateLimitSharing"/>; its round trips on a real PostgreSQL database are in
/// the E2E tests (tests/E2E/RateLimiting/SharedRateLimitTests.cs).
/// </summary>
public sealed class RateLimitSharingTests
{
    [Fact]
    public async Task On_sqlite_nothing_is_shared_or_recorded()
    {
        using var provider = Services(SqliteDatabase.Provider);
        var sharing = provider.GetRequiredService<RateLimitSharing>();
        Assert.False(sharing.Enabled);
        Assert.Equal(TimeSpan.FromMilliseconds(100), sharing.Interval);
        Assert.Contains(provider.GetServices<IHostedService>(), s => ReferenceEquals(s, sharing));

        await sharing.StartAsync(CancellationToken.None);
        var limiter = provider.GetRequiredService<SlidingWindowLimiter>();
        Assert.False(limiter.RecordsLocalDeltas);
        limiter.TryAcquire("k", RateLimit.Create(10, null, null), 0, TokenBudget.Search);
        Assert.Empty(limiter.DrainLocalDeltas());
        await sharing.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData("00:00:00", "RateLimiting:Sharing:Interval")]
    [InlineData("00:00:10", "RateLimiting:Sharing:Interval")]
    public void An_interval_out_of_range_stops_start_up_naming_the_key(string interval, string key)
    {
        using var provider = Services(PostgreSqlNamed, ("RateLimiting:Sharing:Interval", interval));
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RateLimitSharingOptions>>().Value);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharing_enabled_on_a_database_other_than_postgresql_stops_start_up()
    {
        using var provider = Services(SqliteDatabase.Provider, ("RateLimiting:Sharing:Enabled", "true"));
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RateLimitSharingOptions>>().Value);
        Assert.Contains("RateLimiting:Sharing:Enabled", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sqlite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_setting_turns_sharing_off_on_postgresql()
    {
        using var provider = Services(PostgreSqlNamed, ("RateLimiting:Sharing:Enabled", "false"));
        Assert.False(provider.GetRequiredService<RateLimitSharing>().Enabled);
    }

    [Fact]
    public async Task Failed_round_trips_keep_the_counts_and_the_limiter_keeps_deciding()
    {
        // A "PostgreSQL" that is really an empty SQLite database: every round trip fails.
        using var provider = Services(PostgreSqlNamed, ("RateLimiting:Sharing:Interval", "00:00:00.010"));
        var sharing = provider.GetRequiredService<RateLimitSharing>();
        var limiter = provider.GetRequiredService<SlidingWindowLimiter>();
        Assert.True(sharing.Enabled);
        await sharing.StartAsync(CancellationToken.None);
        try
        {
            // The one limiter of the process records from the start.
            Assert.True(limiter.RecordsLocalDeltas);
            var limit = RateLimit.Create(5, null, null);
            for (var i = 0; i < 3; i++)
            {
                Assert.True(limiter.TryAcquire($"key-{i}", limit, 1, TokenBudget.Search).Allowed);
            }

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (sharing.Failures < 3 || sharing.PendingRows < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{sharing.Failures} failures, {sharing.PendingRows} rows pending");
                await Task.Delay(10);
            }

            Assert.Equal(0, sharing.Exchanges);
            var decided = limiter.TryAcquire("key-0", limit, 1, TokenBudget.Search);
            Assert.True(decided.Allowed);
            Assert.Equal(3, decided.RequestsRemaining);
        }
        finally
        {
            await sharing.StopAsync(CancellationToken.None);
        }
    }

    private static readonly IDatabaseProvider PostgreSqlNamed = new NamedProvider("PostgreSql");

    private static ServiceProvider Services(IDatabaseProvider database, params (string Key, string Value)[] settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());
        services.AddLogging();
        services.AddSingleton(new DatabaseSelection(database, "Data Source=:memory:"));
        services.AddSingleton<ISystemDbContextFactory>(sp => new SystemDbContextFactory(sp.GetRequiredService<DatabaseSelection>()));
        services.AddWebConsoleRateLimitSharing();
        return services.BuildServiceProvider();
    }

    /// <summary>A provider that answers to another name but talks to SQLite, whose dialect the sharing SQL is not.</summary>
    private sealed class NamedProvider(string name) : IDatabaseProvider
    {
        public string Name => name;

        public void Configure(DbContextOptionsBuilder options, string connectionString) => SqliteDatabase.Provider.Configure(options, connectionString);

        public string? DefaultConnectionString(string dataDirectory) => null;
    }
}
