using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace WebConsole.Infrastructure.Sqlite;

/// <summary>
/// Puts a file database in write-ahead-log mode the first time this process opens it (the mode is stored in the file).
/// With the default <c>synchronous=FULL</c> a commit is still durable when it returns, but costs one append and one sync
/// of the log instead of a rollback journal's create, syncs and delete (the ledger commits before answering, so this is
/// on every inference request's path), and readers such as usage queries no longer wait for a writer.
/// </summary>
internal sealed class WriteAheadLogInterceptor : DbConnectionInterceptor
{
    private static readonly ConcurrentDictionary<string, bool> Prepared = new(StringComparer.Ordinal);

    public static WriteAheadLogInterceptor Instance { get; } = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (NeedsPreparing(connection, out var file))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
            Prepared[file] = true;
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (NeedsPreparing(connection, out var file))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            Prepared[file] = true;
        }
    }

    // In-memory and read-only databases keep their mode.
    private static bool NeedsPreparing(DbConnection connection, out string file)
    {
        var builder = new SqliteConnectionStringBuilder(connection.ConnectionString);
        file = builder.DataSource;
        return builder.Mode is not (SqliteOpenMode.Memory or SqliteOpenMode.ReadOnly)
            && !string.IsNullOrEmpty(file) && file != ":memory:" && !file.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            && !Prepared.ContainsKey(file);
    }
}
