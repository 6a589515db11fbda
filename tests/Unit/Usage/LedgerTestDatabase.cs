using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Unit.Usage;

/// <summary>
/// A migrated SQLite file in a temporary folder, handed out as the system context factory, with the failures a real
/// database has: refusing connections (<see cref="Down"/>) and a commit whose acknowledgement is lost
/// (<see cref="LoseNextAcknowledgement"/>).
/// </summary>
internal sealed class LedgerTestDatabase : ISystemDbContextFactory, IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "webconsole-ledger-" + Guid.NewGuid().ToString("N"));
    private readonly DbContextOptions<WebConsoleDbContext> _options;
    private readonly LostAcknowledgement _lost = new();

    private LedgerTestDatabase(int busyTimeoutSeconds)
    {
        Directory.CreateDirectory(_folder);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_folder, "webconsole.db"),
            Pooling = false,
            DefaultTimeout = busyTimeoutSeconds,
        }.ToString();
        var builder = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(builder, ConnectionString);
        builder.AddInterceptors(_lost);
        _options = builder.Options;
    }

    public string ConnectionString { get; }

    /// <summary>While true, every new context fails as an unreachable database does.</summary>
    public volatile bool Down;

    /// <summary>The next SaveChanges commits, then fails as if the connection broke before the acknowledgement.</summary>
    public void LoseNextAcknowledgement() => _lost.Armed = true;

    public static async Task<LedgerTestDatabase> CreateAsync(int busyTimeoutSeconds = 30)
    {
        var database = new LedgerTestDatabase(busyTimeoutSeconds);
        await using var context = database.CreateDbContext();
        await context.Database.MigrateAsync();
        return database;
    }

    public WebConsoleDbContext CreateDbContext() =>
        Down ? throw new InvalidOperationException("The database is unavailable (test)") : new WebConsoleDbContext(_options);

    public WebConsoleDbContext CreateDbContext(ITenantContext tenant) =>
        Down ? throw new InvalidOperationException("The database is unavailable (test)") : new WebConsoleDbContext(_options, tenant);

    public (PriceBook Prices, UsageLedger Ledger) CreateLedger(TimeProvider time, Action<BillingOptions>? configure = null)
    {
        var options = new BillingOptions { LedgerRetryInitialDelay = TimeSpan.FromMilliseconds(20), LedgerRetryMaxDelay = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        var prices = new PriceBook(this, Options.Create(options), time);
        return (prices, new UsageLedger(this, prices, Options.Create(options), time, NullLogger<UsageLedger>.Instance));
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        await Task.Yield();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow machine; the temp folder is cleaned by the OS.
        }
    }

    private sealed class LostAcknowledgement : SaveChangesInterceptor
    {
        private int _armed;

        public bool Armed
        {
            set => Volatile.Write(ref _armed, value ? 1 : 0);
        }

        // Called once the changes are committed: failing here is a commit whose acknowledgement never arrived.
        public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default) =>
            Interlocked.Exchange(ref _armed, 0) == 1
                ? throw new InvalidOperationException("The connection broke after COMMIT (test)")
                : ValueTask.FromResult(result);
    }
}

/// <summary>A clock the test moves; timers still run on real time (retry delays stay short).</summary>
internal sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public DateTimeOffset Now => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
