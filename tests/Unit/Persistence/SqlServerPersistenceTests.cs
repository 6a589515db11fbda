using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Tests.Shared.Persistence;
using WebConsole.Infrastructure.SqlServer;

namespace WebConsole.Unit.Persistence;

/// <summary>SQL Server has no engine here: the model, the snapshot and the generated script are checked without one.</summary>
public sealed class SqlServerPersistenceTests
{
    private static WebConsoleDbContext NewContext()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqlServerDatabase.Configure(options, "Server=127.0.0.1,1;Database=webconsole;Encrypt=false;Connect Timeout=1");
        return new WebConsoleDbContext(options.Options);
    }

    [Fact]
    public void The_migration_script_creates_every_table()
    {
        using var context = NewContext();
        var script = context.GetService<IMigrator>().GenerateScript();
        foreach (var table in context.Model.GetEntityTypes().Select(e => e.GetTableName()))
        {
            Assert.Contains($"CREATE TABLE [{table}] (", script, StringComparison.Ordinal);
        }

        Assert.Contains("[Cost] decimal(19,9) NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("[OccurredAt] datetimeoffset NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("CREATE UNIQUE INDEX [IX_UsageRecords_RequestId]", script, StringComparison.Ordinal);
        Assert.Contains("'20261121000000_Initial'", script, StringComparison.Ordinal);
        Assert.Contains("'20261122000000_Identity'", script, StringComparison.Ordinal);
        Assert.Contains("'20261123000000_Billing'", script, StringComparison.Ordinal);
        Assert.Contains("'20261124000000_ManagedCatalog'", script, StringComparison.Ordinal);
        Assert.Contains("'20261125000000_Conversations'", script, StringComparison.Ordinal);
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
