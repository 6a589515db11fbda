using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.SqlServer;

/// <summary>SQL Server.</summary>
public static class SqlServerDatabase
{
    /// <summary>The <c>Database:Provider</c> value.</summary>
    public const string Name = "SqlServer";

    /// <summary>The provider to hand to <c>AddWebConsolePersistence</c>.</summary>
    public static IDatabaseProvider Provider { get; } = new SqlServerDatabaseProvider();

    /// <summary>
    /// Uses SQL Server with this project's migrations and retries on transient failures (code that opens its own
    /// transaction must run it inside <c>Database.CreateExecutionStrategy()</c>).
    /// </summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlServer(connectionString, sql => sql
            .MigrationsAssembly(typeof(SqlServerDatabase).Assembly.GetName().Name)
            .EnableRetryOnFailure());
    }

    private sealed class SqlServerDatabaseProvider : IDatabaseProvider
    {
        public string Name => SqlServerDatabase.Name;

        public void Configure(DbContextOptionsBuilder options, string connectionString) => SqlServerDatabase.Configure(options, connectionString);

        public string? DefaultConnectionString(string dataDirectory) => null;
    }
}
