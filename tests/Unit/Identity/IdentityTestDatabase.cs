using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.Unit.Identity;

/// <summary>A migrated SQLite database in memory with two organizations (A and B), each with one team.</summary>
internal sealed class IdentityTestDatabase : ISystemDbContextFactory, IAsyncDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private DbContextOptions<WebConsoleDbContext> _options = null!;

    public Organization OrganizationA { get; } = Organization.Create(Guid.NewGuid(), "A", "org-a", DateTimeOffset.UnixEpoch);

    public Organization OrganizationB { get; } = Organization.Create(Guid.NewGuid(), "B", "org-b", DateTimeOffset.UnixEpoch);

    public Team TeamA { get; private set; } = null!;

    public Team TeamB { get; private set; } = null!;

    public static async Task<IdentityTestDatabase> CreateAsync()
    {
        var database = new IdentityTestDatabase();
        await database._connection.OpenAsync();
        database._options = (DbContextOptions<WebConsoleDbContext>)SqliteDatabase
            .Configure(new DbContextOptionsBuilder<WebConsoleDbContext>(), database._connection).Options;
        database.TeamA = Team.Create(Guid.NewGuid(), database.OrganizationA.Id, "Search", DateTimeOffset.UnixEpoch);
        database.TeamB = Team.Create(Guid.NewGuid(), database.OrganizationB.Id, "Search", DateTimeOffset.UnixEpoch);
        await using var context = database.CreateDbContext();
        await context.Database.MigrateAsync();
        context.AddRange(database.OrganizationA, database.OrganizationB, database.TeamA, database.TeamB);
        await context.SaveChangesAsync();
        return database;
    }

    public WebConsoleDbContext CreateDbContext() => new(_options, FixedTenantContext.System);

    public WebConsoleDbContext CreateDbContext(ITenantContext tenant) => new(_options, tenant);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

/// <summary>Keeps what would be audited, so tests can check that actions are recorded.</summary>
internal sealed class RecordingAuditLog : IAuditLog
{
    public List<(string Action, string ResourceId, Guid OrganizationId)> Entries { get; } = [];

    public Task RecordAsync(CallerIdentity actor, string action, string resourceType, string resourceId, string? details = null, CancellationToken ct = default)
    {
        Entries.Add((action, resourceId, actor.OrganizationId));
        return Task.CompletedTask;
    }

    public AuditEntry Append(WebConsoleDbContext context, Guid organizationId, CallerIdentity actor, string action, string resourceType, string resourceId, string? details = null) =>
        throw new NotSupportedException();
}
