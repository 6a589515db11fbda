using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Tests.Shared.Persistence;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.Unit.Persistence;

/// <summary>SQLite in memory: one connection stays open for the test, so the database lives as long as the test.</summary>
public sealed class SqlitePersistenceTests : IAsyncLifetime
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public async Task InitializeAsync() => await _connection.OpenAsync();

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    private WebConsoleDbContext NewContext() =>
        new(SqliteDatabase.Configure(new DbContextOptionsBuilder<WebConsoleDbContext>(), _connection).Options is var options
            ? (DbContextOptions<WebConsoleDbContext>)options
            : throw new InvalidOperationException());

    private async Task MigrateAsync()
    {
        await using var context = NewContext();
        await context.Database.MigrateAsync();
    }

    [Fact]
    public async Task Migrations_apply_to_an_empty_database()
    {
        await using var context = NewContext();
        Assert.Empty(await context.Database.GetAppliedMigrationsAsync());
        await context.Database.MigrateAsync();
        Assert.Equal(["20261121000000_Initial", "20261122000000_Identity", "20261123000000_Billing", "20261124000000_ManagedCatalog", "20261125000000_Conversations"], await context.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await context.Database.GetPendingMigrationsAsync());

        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('__EFMigrationsHistory', '__EFMigrationsLock') ORDER BY name";
        var tables = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var modelTables = context.Model.GetEntityTypes().Select(e => e.GetTableName()!).Order(StringComparer.Ordinal);
        Assert.Equal(modelTables, tables);
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
        await using (var context = NewContext())
        {
            await DatabaseInitializer.InitializeAsync(context);
        }

        await using (var again = NewContext())
        {
            await DatabaseInitializer.InitializeAsync(again);
            Assert.Equal(27, await again.CatalogModels.CountAsync());
            Assert.Equal(11, await again.RateLimitPolicies.CountAsync());
        }
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
