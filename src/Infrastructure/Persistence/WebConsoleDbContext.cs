using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Persistence.Configurations;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// The one EF Core model of WebConsole, shared by every database provider. Provider differences stay in the
/// mapping (SQLite's storage of times and costs); each provider project holds its own migrations.
/// </summary>
public sealed class WebConsoleDbContext(DbContextOptions<WebConsoleDbContext> options) : DbContext(options)
{
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

    public DbSet<RateLimitPolicy> RateLimitPolicies => Set<RateLimitPolicy>();

    public DbSet<ModelPrice> ModelPrices => Set<ModelPrice>();

    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();

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
        modelBuilder.ApplyConfiguration(new RateLimitPolicyConfiguration());
        modelBuilder.ApplyConfiguration(new ModelPriceConfiguration());
        modelBuilder.ApplyConfiguration(new UsageRecordConfiguration(sqlite));
    }
}
