// Written by hand to match the migrations beside it (EF Core design-time tools are not available here):
// EF compares this model with the current one to detect pending model changes.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.PostgreSql.Migrations;

[DbContext(typeof(WebConsoleDbContext))]
internal sealed class WebConsoleDbContextModelSnapshot : ModelSnapshot
{
    protected override void BuildModel(ModelBuilder modelBuilder)
    {
        modelBuilder.HasAnnotation("ProductVersion", "10.0.14");
        modelBuilder.HasAnnotation("Relational:MaxIdentifierLength", 63);
        NpgsqlModelBuilderExtensions.UseIdentityByDefaultColumns(modelBuilder);

        modelBuilder.Entity("WebConsole.Domain.ApiKeys.ApiKey", b =>
        {
            b.Property<string>("Id").IsRequired().HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("AllowedEndpoints").IsRequired().HasColumnType("text");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<DateTimeOffset?>("ExpiresAt").HasColumnType("timestamp with time zone");
            b.Property<DateTimeOffset?>("InvalidatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("SecretHash").IsRequired().HasMaxLength(512).HasColumnType("character varying(512)");
            b.Property<Guid>("TeamId").HasColumnType("uuid");
            b.Property<Guid?>("UserId").HasColumnType("uuid");
            b.HasKey("Id");
            b.HasIndex("OrganizationId");
            b.HasIndex("TeamId");
            b.HasIndex("UserId");
            b.ToTable("ApiKeys");
        });

        modelBuilder.Entity("WebConsole.Domain.Audit.AuditEntry", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<string>("Action").IsRequired().HasMaxLength(100).HasColumnType("character varying(100)");
            b.Property<string>("ActorApiKeyId").HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("ActorName").IsRequired().HasMaxLength(254).HasColumnType("character varying(254)");
            b.Property<Guid?>("ActorUserId").HasColumnType("uuid");
            b.Property<string>("Details").HasMaxLength(4000).HasColumnType("character varying(4000)");
            b.Property<DateTimeOffset>("OccurredAt").HasColumnType("timestamp with time zone");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("RemoteAddress").HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("ResourceId").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<string>("ResourceType").IsRequired().HasMaxLength(100).HasColumnType("character varying(100)");
            b.Property<string>("UserAgent").HasMaxLength(512).HasColumnType("character varying(512)");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "OccurredAt");
            b.ToTable("AuditEntries");
        });

        modelBuilder.Entity("WebConsole.Domain.Billing.Budget", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("character varying(3)");
            b.Property<decimal>("MonthlyLimit").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("Scope").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("ScopeId").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<decimal?>("SoftLimit").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<string>("SoftWarnedMonth").HasMaxLength(7).HasColumnType("character varying(7)");
            b.Property<DateTimeOffset>("UpdatedAt").HasColumnType("timestamp with time zone");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "Scope", "ScopeId").IsUnique();
            b.ToTable("Budgets");
        });

        modelBuilder.Entity("WebConsole.Domain.Billing.ModelPrice", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("character varying(3)");
            b.Property<DateTimeOffset>("EffectiveFrom").HasColumnType("timestamp with time zone");
            b.Property<decimal>("InputPerMillion").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<string>("ModelId").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<decimal>("OutputPerMillion").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.HasKey("Id");
            b.HasIndex("ModelId", "Currency", "EffectiveFrom").IsUnique();
            b.ToTable("ModelPrices");
        });

        modelBuilder.Entity("WebConsole.Domain.Catalog.CatalogBackend", b =>
        {
            b.Property<string>("CatalogModelId").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<string>("EmbeddedModelId").HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<string>("Kind").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<DateTimeOffset>("UpdatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("UpstreamSecretSettings").HasColumnType("text");
            b.Property<string>("UpstreamService").HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("UpstreamServiceSettings").HasColumnType("text");
            b.Property<string>("UpstreamTaskSettings").HasColumnType("text");
            b.HasKey("CatalogModelId");
            b.ToTable("CatalogBackends");
        });

        modelBuilder.Entity("WebConsole.Domain.Catalog.CatalogModel", b =>
        {
            b.Property<string>("Id").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<string>("Author").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<string>("DataRetention").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<DateOnly?>("EolDate").HasColumnType("date");
            b.Property<string>("InferenceRegions").IsRequired().HasColumnType("text");
            b.Property<string>("InputModalities").IsRequired().HasColumnType("text");
            b.Property<string>("ModelCard").IsRequired().HasColumnType("text");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<string>("OutputModalities").IsRequired().HasColumnType("text");
            b.Property<string>("ProviderTerms").IsRequired().HasColumnType("text");
            b.Property<string>("ReleaseStatus").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("StackVersion").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<bool>("UsedForTraining").HasColumnType("boolean");
            b.HasKey("Id");
            b.ToTable("CatalogModels");
        });

        modelBuilder.Entity("WebConsole.Domain.Endpoints.InferenceEndpoint", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<string>("ChunkingSettings").HasColumnType("text");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("character varying(256)");
            b.Property<bool>("IsReserved").HasColumnType("boolean");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("SecretSettings").HasColumnType("text");
            b.Property<string>("Service").IsRequired().HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("ServiceSettings").IsRequired().HasColumnType("text");
            b.Property<string>("TaskSettings").IsRequired().HasColumnType("text");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<DateTimeOffset>("UpdatedAt").HasColumnType("timestamp with time zone");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "InferenceId").IsUnique();
            b.ToTable("InferenceEndpoints");
        });

        modelBuilder.Entity("WebConsole.Domain.Playground.Conversation", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<string>("Content").IsRequired().HasColumnType("text");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("character varying(256)");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("Title").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<DateTimeOffset>("UpdatedAt").HasColumnType("timestamp with time zone");
            b.Property<Guid>("UserId").HasColumnType("uuid");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "InferenceId");
            b.HasIndex("UserId", "UpdatedAt");
            b.ToTable("Conversations");
        });

        modelBuilder.Entity("WebConsole.Domain.RateLimiting.RateLimitPolicy", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<long?>("IngestTokensPerMinute").HasColumnType("bigint");
            b.Property<string>("ModelSelector").IsRequired().HasMaxLength(160).HasColumnType("character varying(160)");
            b.Property<Guid?>("OrganizationId").HasColumnType("uuid");
            b.Property<int?>("RequestsPerMinute").HasColumnType("integer");
            b.Property<string>("Scope").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("ScopeId").HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<long?>("SearchTokensPerMinute").HasColumnType("bigint");
            b.HasKey("Id");
            b.HasIndex("OrganizationId");
            b.HasIndex("Scope", "ScopeId");
            b.ToTable("RateLimitPolicies");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.Organization", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<string>("Slug").IsRequired().HasMaxLength(63).HasColumnType("character varying(63)");
            b.HasKey("Id");
            b.HasIndex("Slug").IsUnique();
            b.ToTable("Organizations");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.OrganizationMembership", b =>
        {
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<Guid>("UserId").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.HasKey("OrganizationId", "UserId");
            b.HasIndex("UserId");
            b.ToTable("OrganizationMemberships");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.Team", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Name").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "Name").IsUnique();
            b.ToTable("Teams");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.TeamMembership", b =>
        {
            b.Property<Guid>("TeamId").HasColumnType("uuid");
            b.Property<Guid>("UserId").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("Role").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.HasKey("TeamId", "UserId");
            b.HasIndex("UserId");
            b.ToTable("TeamMemberships");
        });

        modelBuilder.Entity("WebConsole.Domain.Tenancy.User", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<DateTimeOffset>("CreatedAt").HasColumnType("timestamp with time zone");
            b.Property<string>("DisplayName").IsRequired().HasMaxLength(200).HasColumnType("character varying(200)");
            b.Property<string>("Email").IsRequired().HasMaxLength(254).HasColumnType("character varying(254)");
            b.Property<bool>("IsPlatformOperator").HasColumnType("boolean");
            b.Property<bool>("MustChangePassword").HasColumnType("boolean");
            b.Property<string>("PasswordHash").HasMaxLength(512).HasColumnType("character varying(512)");
            b.HasKey("Id");
            b.HasIndex("Email").IsUnique();
            b.ToTable("Users");
        });

        modelBuilder.Entity("WebConsole.Domain.Usage.UsageRecord", b =>
        {
            b.Property<Guid>("Id").HasColumnType("uuid");
            b.Property<string>("ApiKeyId").HasMaxLength(64).HasColumnType("character varying(64)");
            b.Property<string>("BillingDimension").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<decimal>("Cost").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<string>("Currency").IsRequired().HasMaxLength(3).HasColumnType("character varying(3)");
            b.Property<string>("InferenceId").IsRequired().HasMaxLength(256).HasColumnType("character varying(256)");
            b.Property<decimal>("InputPricePerMillion").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<long>("InputTokens").HasColumnType("bigint");
            b.Property<string>("ModelId").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<DateTimeOffset>("OccurredAt").HasColumnType("timestamp with time zone");
            b.Property<Guid>("OrganizationId").HasColumnType("uuid");
            b.Property<string>("Outcome").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<long>("OutputTokens").HasColumnType("bigint");
            b.Property<decimal>("OutputPricePerMillion").HasPrecision(19, 9).HasColumnType("numeric(19,9)");
            b.Property<string>("RequestId").IsRequired().HasMaxLength(128).HasColumnType("character varying(128)");
            b.Property<string>("Surface").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<string>("TaskType").IsRequired().HasMaxLength(32).HasColumnType("character varying(32)");
            b.Property<Guid>("TeamId").HasColumnType("uuid");
            b.Property<Guid?>("UserId").HasColumnType("uuid");
            b.HasKey("Id");
            b.HasIndex("OrganizationId", "OccurredAt");
            b.HasIndex("RequestId").IsUnique();
            b.HasIndex("TeamId", "OccurredAt");
            b.ToTable("UsageRecords");
        });

        modelBuilder.Entity("WebConsole.Infrastructure.RateLimiting.RateLimitCounter", b =>
        {
            b.Property<Guid>("NodeId").HasColumnType("uuid");
            b.Property<string>("Key").HasMaxLength(512).HasColumnType("character varying(512)");
            b.Property<long>("Slot").HasColumnType("bigint");
            b.Property<long>("IngestTokens").HasColumnType("bigint");
            b.Property<long>("Requests").HasColumnType("bigint");
            b.Property<long>("SearchTokens").HasColumnType("bigint");
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
