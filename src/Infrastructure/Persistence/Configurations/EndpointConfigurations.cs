using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Tenancy;

namespace WebConsole.Infrastructure.Persistence.Configurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("ApiKeys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasMaxLength(ApiKey.IdMaxLength).ValueGeneratedNever();
        builder.Property(k => k.Name).HasMaxLength(ApiKey.NameMaxLength);
        builder.Property(k => k.SecretHash).HasMaxLength(512);
        builder.Property(k => k.Role).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(k => k.AllowedEndpoints)
            .HasConversion(ValueConversions.StringList, ValueConversions.StringListComparer)
            .IsRequired();
        builder.HasIndex(k => k.OrganizationId);
        builder.HasIndex(k => k.TeamId);
        builder.HasIndex(k => k.UserId);
        builder.HasOne<Organization>().WithMany().HasForeignKey(k => k.OrganizationId).OnDelete(DeleteBehavior.NoAction);
        builder.HasOne<Team>().WithMany().HasForeignKey(k => k.TeamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InferenceEndpointConfiguration : IEntityTypeConfiguration<InferenceEndpoint>
{
    public void Configure(EntityTypeBuilder<InferenceEndpoint> builder)
    {
        builder.ToTable("InferenceEndpoints");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.InferenceId)
            .HasConversion(ValueConversions.InferenceIdText)
            .HasMaxLength(InferenceId.MaxLength)
            .IsRequired();
        builder.Property(e => e.TaskType).HasConversion<string>().HasMaxLength(ValueConversions.EnumLength);
        builder.Property(e => e.Service).HasMaxLength(InferenceEndpoint.ServiceMaxLength);
        builder.Property(e => e.ServiceSettings).IsRequired();
        builder.Property(e => e.TaskSettings).IsRequired();
        builder.Property(e => e.ChunkingSettings).HasConversion(ValueConversions.ChunkingSettingsJson);
        builder.HasIndex(e => new { e.OrganizationId, e.InferenceId }).IsUnique();
        builder.HasOne<Organization>().WithMany().HasForeignKey(e => e.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}
