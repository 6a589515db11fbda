using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite;

/// <summary>SQLite, the embedded default: one file in the data directory.</summary>
public static class SqliteDatabase
{
    /// <summary>The <c>Database:Provider</c> value.</summary>
    public const string Name = "Sqlite";

    /// <summary>The provider to hand to <c>AddWebConsolePersistence</c>.</summary>
    public static IDatabaseProvider Provider { get; } = new SqliteDatabaseProvider();

    /// <summary>Uses SQLite with this project's migrations.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        EnsureDirectory(connectionString);
        return options.UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name))
            .AddInterceptors(WriteAheadLogInterceptor.Instance);
    }

    /// <summary>Uses SQLite over an open connection (an in-memory database lives as long as its connection).</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.UseSqlite(connection, sqlite => sqlite.MigrationsAssembly(typeof(SqliteDatabase).Assembly.GetName().Name));
    }

    /// <summary>The default connection string: <c>Data Source=&lt;dataDirectory&gt;/webconsole.db</c>.</summary>
    public static string DefaultConnectionString(string dataDirectory) =>
        new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "webconsole.db") }.ToString();

    // SQLite creates the file but not its folder; a fresh install has no data directory yet.
    private static void EnsureDirectory(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var dataSource = builder.DataSource;
        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(dataSource) || dataSource == ":memory:"
            || dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private sealed class SqliteDatabaseProvider : IDatabaseProvider
    {
        public string Name => SqliteDatabase.Name;

        public void Configure(DbContextOptionsBuilder options, string connectionString) => SqliteDatabase.Configure(options, connectionString);

        public string? DefaultConnectionString(string dataDirectory) => SqliteDatabase.DefaultConnectionString(dataDirectory);
    }
}
