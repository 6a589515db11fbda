// Written by hand to match the migrations beside it (EF Core design-time tools are not available here):
// EF compares this model with the current one to detect pending model changes.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite.Migrations;

[DbContext(typeof(WebConsoleDbContext))]
internal sealed class WebConsoleDbContextModelSnapshot : ModelSnapshot
{
    protected override void BuildModel(ModelBuilder modelBuilder)
    {
        modelBuilder.HasAnnotation("ProductVersion", "10.0.14");

        modelBuilder.Entity("WebConsole.Domain.ApiKeys.ApiKey", b =>
        {
            b.Property<string>("Id").IsRequired().HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("AllowedEndpoints").IsRequired().HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<long?>("ExpiresAt").HasColumnType("INTEGER");
            b.Property<long?>("InvalidatedAt").HasColumnType("INTEGER");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("SecretHash").IsRequired().HasMaxLength(512).HasColumnType("TEXT");
            b.Property<Guid>("TeamId").HasColumnType("TEXT");
            b.Property<Guid?>("UserId").HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("OrganizationId");
            b.HasIndex("TeamId");
            b.HasIndex("UserId");
            b.ToTable("ApiKeys");
        });

        modelBuilder.Entity("WebConsole.Domain.Audit.AuditEntry", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<string>("Action").IsRequired().HasMaxLength(100).HasColumnType("TEXT");
            b.Property<string>("ActorApiKeyId").HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("ActorName").IsRequired().HasMaxLength(254).HasColumnType("TEXT");
            b.Property<Guid?>("ActorUserId").HasColumnType("TEXT");
            b.Property<string>("Details").HasMaxLength(4000).HasColumnType("TEXT");
            b.Property<long>("OccurredAt").HasColumnType("INTEGER");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("RemoteAddress").HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("ResourceId").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<string>("ResourceType").IsRequired().HasMaxLength(100).HasColumnType("TEXT");
            b.Property<string>("UserAgent").HasMaxLength(512).HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "OccurredAt");
            b.ToTable("AuditEntries");
        });

        modelBuilder.Entity("WebConsole.Domain.Billing.Budget", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("TEXT");
            b.Property<long>("MonthlyLimit").HasColumnType("INTEGER");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("Scope").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("ScopeId").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<long?>("SoftLimit").HasColumnType("INTEGER");
            b.Property<string>("SoftWarnedMonth").HasMaxLength(7).HasColumnType("TEXT");
            b.Property<long>("UpdatedAt").HasColumnType("INTEGER");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "Scope", "ScopeId").IsUnique();
            b.ToTable("Budgets");
        });

        modelBuilder.Entity("WebConsole.Domain.Billing.ModelPrice", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("TEXT");
            b.Property<long>("EffectiveFrom").HasColumnType("INTEGER");
            b.Property<decimal>("InputPerMillion").HasPrecision(19, 9).HasColumnType("TEXT");
            b.Property<string>("ModelId").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<decimal>("OutputPerMillion").HasPrecision(19, 9).HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("ModelId", "Currency", "EffectiveFrom").IsUnique();
            b.ToTable("ModelPrices");
        });

        modelBuilder.Entity("WebConsole.Domain.Catalog.CatalogBackend", b =>
        {
            b.Property<string>("CatalogModelId").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<string>("EmbeddedModelId").HasMaxLength(128).HasColumnType("TEXT");
            b.Property<string>("Kind").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<long>("UpdatedAt").HasColumnType("INTEGER");
            b.Property<string>("UpstreamSecretSettings").HasColumnType("TEXT");
            b.Property<string>("UpstreamService").HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("UpstreamServiceSettings").HasColumnType("TEXT");
            b.Property<string>("UpstreamTaskSettings").HasColumnType("TEXT");
            b.HasKey("CatalogModelId");
            b.ToTable("CatalogBackends");
        });

        modelBuilder.Entity("WebConsole.Domain.Catalog.CatalogModel", b =>
        {
            b.Property<string>("Id").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<string>("Author").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<string>("DataRetention").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<DateOnly?>("EolDate").HasColumnType("TEXT");
            b.Property<string>("InferenceRegions").IsRequired().HasColumnType("TEXT");
            b.Property<string>("InputModalities").IsRequired().HasColumnType("TEXT");
            b.Property<string>("ModelCard").IsRequired().HasColumnType("TEXT");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<string>("OutputModalities").IsRequired().HasColumnType("TEXT");
            b.Property<string>("ProviderTerms").IsRequired().HasColumnType("TEXT");
            b.Property<string>("ReleaseStatus").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("StackVersion").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<bool>("UsedForTraining").HasColumnType("INTEGER");
            b.HasKey("Id");
            b.ToTable("CatalogModels");
        });

        modelBuilder.Entity("WebConsole.Domain.Endpoints.InferenceEndpoint", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<string>("ChunkingSettings").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("TEXT");
            b.Property<bool>("IsReserved").HasColumnType("INTEGER");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("SecretSettings").HasColumnType("TEXT");
            b.Property<string>("Service").IsRequired().HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("ServiceSettings").IsRequired().HasColumnType("TEXT");
            b.Property<string>("TaskSettings").IsRequired().HasColumnType("TEXT");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<long>("UpdatedAt").HasColumnType("INTEGER");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "InferenceId").IsUnique();
            b.ToTable("InferenceEndpoints");
        });

        modelBuilder.Entity("WebConsole.Domain.Playground.Conversation", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<string>("Content").IsRequired().HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("TEXT");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("Title").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<long>("UpdatedAt").HasColumnType("INTEGER");
            b.Property<Guid>("UserId").HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "InferenceId");
            b.HasIndex("UserId", "UpdatedAt");
            b.ToTable("Conversations");
        });

        modelBuilder.Entity("WebConsole.Domain.RateLimiting.RateLimitPolicy", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<long?>("IngestTokensPerMinute").HasColumnType("INTEGER");
            b.Property<string>("ModelSelector").IsRequired().HasMaxLength(160).HasColumnType("TEXT");
            b.Property<Guid?>("OrganizationId").HasColumnType("TEXT");
            b.Property<int?>("RequestsPerMinute").HasColumnType("INTEGER");
            b.Property<string>("Scope").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("ScopeId").HasMaxLength(128).HasColumnType("TEXT");
            b.Property<long?>("SearchTokensPerMinute").HasColumnType("INTEGER");
            b.HasKey("Id");
            b.HasIndex("OrganizationId");
            b.HasIndex("Scope", "ScopeId");
            b.ToTable("RateLimitPolicies");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.Organization", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<string>("Slug").IsRequired().HasMaxLength(63).HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("Slug").IsUnique();
            b.ToTable("Organizations");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.OrganizationMembership", b =>
        {
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<Guid>("UserId").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.HasKey("OrganizationId", "UserId");
            b.HasIndex("UserId");
            b.ToTable("OrganizationMemberships");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.Team", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "Name").IsUnique();
            b.ToTable("Teams");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.TeamMembership", b =>
        {
            b.Property<Guid>("TeamId").HasColumnType("TEXT");
            b.Property<Guid>("UserId").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.HasKey("TeamId", "UserId");
            b.HasIndex("UserId");
            b.ToTable("TeamMemberships");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.User", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<long>("CreatedAt").HasColumnType("INTEGER");
            b.Property<string>("DisplayName").IsRequired().HasMaxLength(200).HasColumnType("TEXT");
            b.Property<string>("Email").IsRequired().HasMaxLength(254).HasColumnType("TEXT");
            b.Property<bool>("IsPlatformOperator").HasColumnType("INTEGER");
            b.Property<bool>("MustChangePassword").HasColumnType("INTEGER");
            b.Property<string>("PasswordHash").HasMaxLength(512).HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("Email").IsUnique();
            b.ToTable("Users");
        });

        modelBuilder.Entity("WebConsole.Domain.Usage.UsageRecord", b =>
        {
            b.Property<Guid>("Id").HasColumnType("TEXT");
            b.Property<string>("ApiKeyId").HasMaxLength(64).HasColumnType("TEXT");
            b.Property<string>("BillingDimension").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<long>("Cost").HasColumnType("INTEGER");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("TEXT");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("TEXT");
            b.Property<long>("InputPricePerMillion").HasColumnType("INTEGER");
            b.Property<long>("InputTokens").HasColumnType("INTEGER");
            b.Property<string>("ModelId").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<long>("OccurredAt").HasColumnType("INTEGER");
            b.Property<Guid>("OrganizationId").HasColumnType("TEXT");
            b.Property<string>("Outcome").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<long>("OutputTokens").HasColumnType("INTEGER");
            b.Property<long>("OutputPricePerMillion").HasColumnType("INTEGER");
            b.Property<string>("RequestId").IsRequired().HasMaxLength(128).HasColumnType("TEXT");
            b.Property<string>("Surface").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("TEXT");
            b.Property<Guid>("TeamId").HasColumnType("TEXT");
            b.Property<Guid?>("UserId").HasColumnType("TEXT");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "OccurredAt");
            b.HasIndex("RequestId").IsUnique();
            b.HasIndex("TeamId", "OccurredAt");
            b.ToTable("UsageRecords");
        });

        modelBuilder.Entity("WebConsole.Infrastructure.RateLimiting.RateLimitCounter", b =>
        {
            b.Property<Guid>("NodeId").HasColumnType("TEXT");
            b.Property<string>("Key").HasMaxLength(512).HasColumnType("TEXT");
            b.Property<long>("Slot").HasColumnType("INTEGER");
            b.Property<long>("IngestTokens").HasColumnType("INTEGER");
            b.Property<long>("Requests").HasColumnType("INTEGER");
            b.Property<long>("SearchTokens").HasColumnType("INTEGER");
            b.HasKey("NodeId", "Key", "Slot");
            b.HasIndex("Slot");
            b.ToTable("RateLimitCounters");
        });

        modelBuilder.Entity("WebConsole.Domain.ApiKeys.ApiKey", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.NoAction).IsRequired();
            b.HasOne("WebConsole.Domain.Tenancy.Team", null).WithMany().HasForeignKey("TeamId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne("WebConsole.Domain.Tenancy.User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity("WebConsole.Domain.Audit.AuditEntry", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Billing.Budget", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Catalog.CatalogBackend", b =>
        {
            b.HasOne("WebConsole.Domain.Catalog.CatalogModel", null).WithOne().HasForeignKey("WebConsole.Domain.Catalog.CatalogBackend", "CatalogModelId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Endpoints.InferenceEndpoint", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Playground.Conversation", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne("WebConsole.Domain.Tenancy.User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.OrganizationMembership", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne("WebConsole.Domain.Tenancy.User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.Team", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Organization", null).WithMany().HasForeignKey("OrganizationId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.TeamMembership", b =>
        {
            b.HasOne("WebConsole.Domain.Tenancy.Team", null).WithMany().HasForeignKey("TeamId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne("WebConsole.Domain.Tenancy.User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });
    }
}
