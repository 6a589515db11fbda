using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Playground;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence.Configurations;
using WebConsole.Infrastructure.RateLimiting;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// The one EF Core model of WebConsole, shared by every database provider. Provider differences stay in the
/// mapping (SQLite's storage of times and costs); each provider project holds its own migrations.
/// Every organization-owned entity carries a global query filter on the <see cref="ITenantContext"/> the context was
/// created with, so a query that forgets a tenant check still cannot read another organization's rows.
/// </summary>
public sealed class WebConsoleDbContext : DbContext
{
    private readonly ITenantContext _tenant;

    /// <summary>The constructor DI uses: the scope's tenant decides what the context sees.</summary>
    [ActivatorUtilitiesConstructor]
    public WebConsoleDbContext(DbContextOptions<WebConsoleDbContext> options, ITenantContext tenant)
        : base(options)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        _tenant = tenant;
    }

    /// <summary>
    /// A system-scope context (no tenant filter): for tests and the system factory only, hence internal, so product code
    /// cannot create an unfiltered context by accident.
    /// </summary>
    internal WebConsoleDbContext(DbContextOptions<WebConsoleDbContext> options)
        : this(options, FixedTenantContext.System)
    {
    }

    /// <summary>The tenant this context reads and writes for.</summary>
    public ITenantContext Tenant => _tenant;

    // Read by the query filters: EF Core evaluates members of the context per query, so one cached model serves every tenant.
    private bool SeesAllOrganizations => _tenant.IsSystem;

    private Guid? CurrentOrganizationId => _tenant.OrganizationId;

    /// <summary>EF Core's provider name of SQLite, which changes how times and costs are stored.</summary>
    public const string SqliteProviderName = "Microsoft.EntityFrameworkCore.Sqlite";

    public DbSet<Organization> Organizations => Set<Organization>();

    public DbSet<Team> Teams => Set<Team>();

    public DbSet<User> Users => Set<User>();

    public DbSet<TeamMembership> TeamMemberships => Set<TeamMembership>();

    public DbSet<OrganizationMembership> OrganizationMemberships => Set<OrganizationMembership>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<InferenceEndpoint> InferenceEndpoints => Set<InferenceEndpoint>();

    public DbSet<CatalogModel> CatalogModels => Set<CatalogModel>();

    public DbSet<CatalogBackend> CatalogBackends => Set<CatalogBackend>();

    public DbSet<RateLimitPolicy> RateLimitPolicies => Set<RateLimitPolicy>();

    public DbSet<ModelPrice> ModelPrices => Set<ModelPrice>();

    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<Budget> Budgets => Set<Budget>();

    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();

    public DbSet<Conversation> Conversations => Set<Conversation>();

    private bool IsSqlite => Database.ProviderName == SqliteProviderName;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        if (IsSqlite)
        {
            // SQLite has no date type: EF's default TEXT form of DateTimeOffset cannot be compared or ordered in SQL.
            // The binary form keeps UTC ticks in the high bits, so INTEGER order is time order and the offset survives.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var sqlite = IsSqlite;
        modelBuilder.ApplyConfiguration(new OrganizationConfiguration());
        modelBuilder.ApplyConfiguration(new TeamConfiguration());
        modelBuilder.ApplyConfiguration(new UserConfiguration());
        modelBuilder.ApplyConfiguration(new TeamMembershipConfiguration());
        modelBuilder.ApplyConfiguration(new OrganizationMembershipConfiguration());
        modelBuilder.ApplyConfiguration(new ApiKeyConfiguration());
        modelBuilder.ApplyConfiguration(new InferenceEndpointConfiguration());
        modelBuilder.ApplyConfiguration(new CatalogModelConfiguration());
        modelBuilder.ApplyConfiguration(new CatalogBackendConfiguration());
        modelBuilder.ApplyConfiguration(new RateLimitPolicyConfiguration());
        modelBuilder.ApplyConfiguration(new ModelPriceConfiguration());
        modelBuilder.ApplyConfiguration(new UsageRecordConfiguration(sqlite));
        modelBuilder.ApplyConfiguration(new AuditEntryConfiguration());
        modelBuilder.ApplyConfiguration(new BudgetConfiguration(sqlite));
        modelBuilder.ApplyConfiguration(new RateLimitCounterConfiguration());
        modelBuilder.ApplyConfiguration(new ConversationConfiguration());
        ApplyTenantFilters(modelBuilder);
    }

    // Organizations themselves, and everything that names an organization; team memberships through their team.
    // Users are installation-wide (one person may belong to several organizations) and are not filtered.
    private void ApplyTenantFilters(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Organization>().HasQueryFilter(o => SeesAllOrganizations || o.Id == CurrentOrganizationId);
        modelBuilder.Entity<Team>().HasQueryFilter(t => SeesAllOrganizations || t.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<OrganizationMembership>().HasQueryFilter(m => SeesAllOrganizations || m.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<TeamMembership>().HasQueryFilter(m => SeesAllOrganizations || Set<Team>().Any(t => t.Id == m.TeamId && t.OrganizationId == CurrentOrganizationId));
        modelBuilder.Entity<ApiKey>().HasQueryFilter(k => SeesAllOrganizations || k.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<InferenceEndpoint>().HasQueryFilter(e => SeesAllOrganizations || e.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<UsageRecord>().HasQueryFilter(u => SeesAllOrganizations || u.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<AuditEntry>().HasQueryFilter(a => SeesAllOrganizations || a.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<Budget>().HasQueryFilter(b => SeesAllOrganizations || b.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<Conversation>().HasQueryFilter(c => SeesAllOrganizations || c.OrganizationId == CurrentOrganizationId);
        modelBuilder.Entity<RateLimitPolicy>().HasQueryFilter(p => SeesAllOrganizations || p.OrganizationId == null || p.OrganizationId == CurrentOrganizationId);
    }
}
