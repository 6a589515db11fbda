using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.PostgreSql;

/// <summary>PostgreSQL, the server database for several nodes.</summary>
public static class PostgreSqlDatabase
{
    /// <summary>The <c>Database:Provider</c> value.</summary>
    public const string Name = "PostgreSql";

    /// <summary>The provider to hand to <c>AddWebConsolePersistence</c>.</summary>
    public static IDatabaseProvider Provider { get; } = new PostgreSqlDatabaseProvider();

    /// <summary>
    /// Uses PostgreSQL with this project's migrations and retries on transient failures (code that opens its own
    /// transaction must run it inside <c>Database.CreateExecutionStrategy()</c>).
    /// </summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseNpgsql(connectionString, npgsql => npgsql
            .MigrationsAssembly(typeof(PostgreSqlDatabase).Assembly.GetName().Name)
            .EnableRetryOnFailure());
    }

    private sealed class PostgreSqlDatabaseProvider : IDatabaseProvider
    {
        public string Name => PostgreSqlDatabase.Name;

        public void Configure(DbContextOptionsBuilder options, string connectionString) => PostgreSqlDatabase.Configure(options, connectionString);

        public string? DefaultConnectionString(string dataDirectory) => null;
    }
}
