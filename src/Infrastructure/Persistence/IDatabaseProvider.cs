using Microsoft.EntityFrameworkCore;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// A database engine WebConsole can run on. Each provider project (Sqlite, PostgreSql, SqlServer) implements it with
/// its own migrations assembly; the composition root hands the implementations to
/// <see cref="PersistenceServiceCollectionExtensions.AddWebConsolePersistence"/>, which picks one by
/// <c>Database:Provider</c>.
/// </summary>
public interface IDatabaseProvider
{
    /// <summary>The value of <c>Database:Provider</c> that selects this provider, e.g. <c>Sqlite</c>.</summary>
    string Name { get; }

    /// <summary>Configures EF Core for this engine, its migrations assembly included.</summary>
    void Configure(DbContextOptionsBuilder options, string connectionString);

    /// <summary>The connection string used when <c>ConnectionStrings:WebConsole</c> is absent; null when one is required.</summary>
    string? DefaultConnectionString(string dataDirectory);
}
