using Microsoft.EntityFrameworkCore;
using Npgsql;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Tests.Shared.Persistence;
using WebConsole.Infrastructure.PostgreSql;

namespace WebConsole.E2E.Persistence;

/// <summary>The PostgreSQL migrations and mapping on a real server; every test gets its own empty database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlPersistenceTests(PostgresCluster cluster) : IAsyncLifetime
{
    private string _connectionString = string.Empty;

    public async Task InitializeAsync() => _connectionString = await cluster.CreateDatabaseAsync("persistence");

    public Task DisposeAsync() => Task.CompletedTask;

    private WebConsoleDbContext NewContext()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        PostgreSqlDatabase.Configure(options, _connectionString);
        return new WebConsoleDbContext(options.Options);
    }

    private async Task MigrateAsync()
    {
        await using var context = NewContext();
        await context.Database.MigrateAsync();
    }

    private async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    [Fact]
    public async Task Migrations_apply_to_an_empty_database()
    {
        await using var context = NewContext();
        await context.Database.MigrateAsync();
        Assert.Equal(["20261121000000_Initial", "20261122000000_Identity", "20261123000000_Billing", "20261124000000_ManagedCatalog", "20261125000000_Conversations"], await context.Database.GetAppliedMigrationsAsync());

        var tables = await QueryAsync(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_EF%' ORDER BY table_name COLLATE \"C\"");
        Assert.Equal(context.Model.GetEntityTypes().Select(e => e.GetTableName()!).Order(StringComparer.Ordinal), tables);

        var occurredAt = await QueryAsync(
            "SELECT data_type::text FROM information_schema.columns WHERE table_name = 'UsageRecords' AND column_name IN ('OccurredAt', 'Cost') ORDER BY column_name");
        Assert.Equal(["numeric", "timestamp with time zone"], occurredAt);
    }

    [Fact]
    public async Task Every_entity_round_trips()
    {
        await MigrateAsync();
        await PersistenceScenarios.EveryEntityRoundTripsAsync(NewContext);
    }

    [Fact]
    public async Task Usage_request_ids_are_unique()
    {
        await MigrateAsync();
        await PersistenceScenarios.Usage_request_ids_are_unique(NewContext);
    }

    [Fact]
    public async Task Catalog_seeding_loads_all_models_and_is_idempotent()
    {
        await MigrateAsync();
        await PersistenceScenarios.CatalogSeedingIsIdempotentAsync(NewContext);
    }

    [Fact]
    public async Task Initialization_migrates_and_seeds_and_can_run_again()
    {
        for (var run = 0; run < 2; run++)
        {
            await using var context = NewContext();
            await DatabaseInitializer.InitializeAsync(context);
        }

        await using var check = NewContext();
        Assert.Equal(27, await check.CatalogModels.CountAsync());
        Assert.Equal(11, await check.RateLimitPolicies.CountAsync());
    }

    [Fact]
    public void The_hand_written_snapshot_matches_the_model()
    {
        using var context = NewContext();
        Assert.False(context.Database.HasPendingModelChanges());
    }

    [Fact]
    public void The_hand_written_migration_creates_the_models_schema()
    {
        using var context = NewContext();
        PersistenceScenarios.MigrationsCreateTheModelsSchema(context);
    }
}
