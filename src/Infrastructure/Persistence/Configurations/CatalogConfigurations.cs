using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.RateLimiting;

namespace WebConsole.Infrastructure.Persistence.Configurations;

internal sealed class CatalogModelConfiguration : IEntityTypeConfiguration<CatalogModel>
{
    public void Configure(EntityTypeBuilder<CatalogModel> builder)
    {
        builder.ToTable("CatalogModels");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasMaxLength(128).ValueGeneratedNever();
        builder.Property(m => m.Author).HasMaxLength(200);
        builder.Property(m => m.Name).HasMaxLength(200);
        builder.Property(m => m.TaskType).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(m => m.ModelCard).HasConversion(ValueConversions.Link).IsRequired();
        builder.Property(m => m.ProviderTerms).HasConversion(ValueConversions.LinkList, ValueConversions.LinkListComparer).IsRequired();
        builder.Property(m => m.InputModalities).HasConversion(ValueConversions.StringList, ValueConversions.StringListComparer).IsRequired();
        builder.Property(m => m.OutputModalities).HasConversion(ValueConversions.StringList, ValueConversions.StringListComparer).IsRequired();
        builder.Property(m => m.InferenceRegions).HasConversion(ValueConversions.StringList, ValueConversions.StringListComparer).IsRequired();
        builder.Property(m => m.DataRetention).HasMaxLength(200);
        builder.Property(m => m.ReleaseStatus).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(m => m.StackVersion).HasMaxLength(32);
    }
}

internal sealed class CatalogBackendConfiguration : IEntityTypeConfiguration<CatalogBackend>
{
    public void Configure(EntityTypeBuilder<CatalogBackend> builder)
    {
        builder.ToTable("CatalogBackends");
        builder.HasKey(b => b.CatalogModelId);
        builder.Property(b => b.CatalogModelId).HasMaxLength(128).ValueGeneratedNever();
        builder.Property(b => b.Kind).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(b => b.EmbeddedModelId).HasMaxLength(128);
        builder.Property(b => b.UpstreamService).HasMaxLength(CatalogBackend.ServiceMaxLength);
        builder.HasOne<CatalogModel>().WithOne().HasForeignKey<CatalogBackend>(b => b.CatalogModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RateLimitPolicyConfiguration : IEntityTypeConfiguration<RateLimitPolicy>
{
    public void Configure(EntityTypeBuilder<RateLimitPolicy> builder)
    {
        builder.ToTable("RateLimitPolicies");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.Property(p => p.Scope).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(p => p.ScopeId).HasMaxLength(128);
        builder.Property(p => p.ModelSelector).HasConversion(ValueConversions.ModelSelectorText).HasMaxLength(160).IsRequired();
        builder.HasIndex(p => new { p.Scope, p.ScopeId });
        builder.HasIndex(p => p.OrganizationId);
    }
}

internal sealed class ModelPriceConfiguration : IEntityTypeConfiguration<ModelPrice>
{
    public void Configure(EntityTypeBuilder<ModelPrice> builder)
    {
        builder.ToTable("ModelPrices");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.Property(p => p.ModelId).HasMaxLength(128);
        builder.Property(p => p.InputPerMillion).HasPrecision(19, 9);
        builder.Property(p => p.OutputPerMillion).HasPrecision(19, 9);
        builder.Property(p => p.Currency).HasMaxLength(3);
        builder.HasIndex(p => new { p.ModelId, p.Currency, p.EffectiveFrom }).IsUnique();
    }
}

internal sealed class UsageRecordConfiguration(bool sqlite) : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> builder)
    {
        builder.ToTable("UsageRecords");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Id).ValueGeneratedNever();
        builder.Property(u => u.RequestId).HasMaxLength(128);
        builder.Property(u => u.ApiKeyId).HasMaxLength(64);
        builder.Property(u => u.InferenceId).HasMaxLength(256);
        builder.Property(u => u.ModelId).HasMaxLength(128);
        builder.Property(u => u.TaskType).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(u => u.Surface).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(u => u.Outcome).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(u => u.Currency).HasMaxLength(3);
        builder.Property(u => u.BillingDimension).HasMaxLength(32);
        if (sqlite)
        {
            // SQLite keeps decimals as TEXT and EF cannot SUM them there; scaled integers sum exactly in SQL.
            builder.Property(u => u.Cost).HasConversion(ValueConversions.ScaledCost);
            builder.Property(u => u.InputPricePerMillion).HasConversion(ValueConversions.ScaledCost);
            builder.Property(u => u.OutputPricePerMillion).HasConversion(ValueConversions.ScaledCost);
        }
        else
        {
            builder.Property(u => u.Cost).HasPrecision(19, UsageRecord.CostDecimals);
            builder.Property(u => u.InputPricePerMillion).HasPrecision(19, 9);
            builder.Property(u => u.OutputPricePerMillion).HasPrecision(19, 9);
        }

        // Usage outlives keys, users and endpoints (it is billing history), so no foreign keys here.
        builder.HasIndex(u => u.RequestId).IsUnique();
        builder.HasIndex(u => new { u.OrganizationId, u.OccurredAt });
        builder.HasIndex(u => new { u.TeamId, u.OccurredAt });
    }
}

internal sealed class BudgetConfiguration(bool sqlite) : IEntityTypeConfiguration<Budget>
{
    public void Configure(EntityTypeBuilder<Budget> builder)
    {
        builder.ToTable("Budgets");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Id).ValueGeneratedNever();
        builder.Property(b => b.Scope).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(b => b.ScopeId).HasMaxLength(128);
        builder.Property(b => b.Currency).HasMaxLength(3);
        builder.Property(b => b.SoftWarnedMonth).HasMaxLength(7);
        if (sqlite)
        {
            builder.Property(b => b.MonthlyLimit).HasConversion(ValueConversions.ScaledCost);
            builder.Property(b => b.SoftLimit).HasConversion(ValueConversions.ScaledCost);
        }
        else
        {
            builder.Property(b => b.MonthlyLimit).HasPrecision(19, 9);
            builder.Property(b => b.SoftLimit).HasPrecision(19, 9);
        }

        builder.HasOne<Organization>().WithMany().HasForeignKey(b => b.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(b => new { b.OrganizationId, b.Scope, b.ScopeId }).IsUnique();
    }
}

internal sealed class RateLimitCounterConfiguration : IEntityTypeConfiguration<RateLimitCounter>
{
    public void Configure(EntityTypeBuilder<RateLimitCounter> builder)
    {
        builder.ToTable("RateLimitCounters");
        builder.HasKey(c => new { c.NodeId, c.Key, c.Slot });
        builder.Property(c => c.Key).HasMaxLength(512);
        builder.HasIndex(c => c.Slot);
    }
}
